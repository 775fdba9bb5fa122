import HutchTestSupport
import Foundation
import XCTest
@testable import HutchModel

/// Loading data a chunk at a time (`Dataset+Streaming`) against reading every array whole first
/// (`NumPyArchive.readNPZ`, then the arrays' initializers): the same data set, bit for bit, and the
/// same error, at chunk sizes that cut elements, examples and headers anywhere.
final class DatasetStreamingTests: XCTestCase {
    private let numpy = modelFixtures.appendingPathComponent("numpy")
    /// 1 and 3 cut every float; 7 cuts elements and headers at shifting places; 1 MiB is the default.
    private let chunkSizes = [1, 3, 7, 64, 1000, Dataset.loadChunkBytes]

    private func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: numpy.appendingPathComponent(name))) }

    /// The .npz read whole: every member decoded to an array, then the labels and inputs chosen.
    private func wholeFile(npz bytes: [UInt8], source: String) throws -> Dataset {
        let arrays = try NumPyArchive.readNPZ(bytes, source: source)
        let labelsKey = arrays["y"] != nil ? "y" : "labels"
        var named = arrays
        guard let y = named.removeValue(forKey: labelsKey), !named.isEmpty else {
            let names = arrays.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw ModelError.invalidData("\(source): needs the labels as array 'y' (or 'labels') and the inputs as array 'x' or one array per model input, named as the input, but holds \(names.isEmpty ? "none" : names); save with numpy.savez(path, x=inputs, y=labels)")
        }
        if let x = arrays["x"] {
            return try Dataset(inputs: x, labels: y, inputsName: "\(source) array 'x'", labelsName: "\(source) array '\(labelsKey)'")
        }
        return try Dataset(named: named, labels: y, source: source, labelsName: "\(source) array '\(labelsKey)'")
    }

    private func wholeFile(x: [UInt8], y: [UInt8]) throws -> Dataset {
        try Dataset(inputs: try NumPyArray(npy: x, source: "x.npy"), labels: try NumPyArray(npy: y, source: "y.npy"),
                    inputsName: "x.npy", labelsName: "y.npy")
    }

    /// Either both give equal data sets or both fail with the same message.
    private func assertSame(_ streamed: () throws -> Dataset, _ whole: () throws -> Dataset, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        let a = Result { try streamed() }, b = Result { try whole() }
        switch (a, b) {
        case (.success(let s), .success(let w)):
            XCTAssertEqual(s.inputs.shape, w.inputs.shape, what, file: file, line: line)
            XCTAssertEqual(s.inputs.data.map(\.bitPattern), w.inputs.data.map(\.bitPattern), what, file: file, line: line)
            XCTAssertEqual(s.targets, w.targets, what, file: file, line: line)
            XCTAssertEqual(s.parts, w.parts, what, file: file, line: line)
            XCTAssertEqual(s.holdsTokenIDs, w.holdsTokenIDs, what, file: file, line: line)
        case (.failure(let s), .failure(let w)):
            XCTAssertEqual("\(s)", "\(w)", what, file: file, line: line)
            XCTAssertEqual(s as? ModelError, w as? ModelError, what, file: file, line: line)
        default:
            XCTFail("\(what): streamed \(a), whole \(b)", file: file, line: line)
        }
    }

    private func assertSame(npz: [UInt8], _ what: String, chunks: [Int]? = nil, file: StaticString = #filePath, line: UInt = #line) {
        for chunk in chunks ?? chunkSizes {
            assertSame({ try Dataset(npz: ByteArraySource(npz), source: "d.npz", chunkBytes: chunk) },
                       { try wholeFile(npz: npz, source: "d.npz") }, "\(what), chunk \(chunk)", file: file, line: line)
        }
    }

    private func assertSame(x: [UInt8], y: [UInt8], _ what: String, chunks: [Int]? = nil, file: StaticString = #filePath, line: UInt = #line) {
        for chunk in chunks ?? chunkSizes {
            assertSame({ try Dataset(inputs: ByteArraySource(x), labels: ByteArraySource(y), inputsName: "x.npy", labelsName: "y.npy", chunkBytes: chunk) },
                       { try wholeFile(x: x, y: y) }, "\(what), chunk \(chunk)", file: file, line: line)
        }
    }

    func testStoredAndDeflatedNPZAndNPYPairsLoadTheSameDataSet() throws {
        for name in ["data_stored.npz", "data_deflated.npz"] { assertSame(npz: try bytes(name), name) }
        let digits = [UInt8](try Data(contentsOf: ONNXEncodingTests.repositoryRoot.appendingPathComponent("Examples/digits.npz")))
        assertSame(npz: digits, "digits.npz", chunks: [7, 4096, Dataset.loadChunkBytes])
        XCTAssertEqual(try Dataset(npz: ByteArraySource(digits), source: "d", chunkBytes: 7).count, 450)
        for x in ["x.npy", "x_v1.npy", "x_v2.npy", "x_v3.npy"] { assertSame(x: try bytes(x), y: try bytes("y.npy"), x) }
        // Fortran order is reordered, token ids kept exact, whatever the chunks.
        assertSame(x: try bytes("fortran.npy"), y: try bytes("y.npy"), "fortran.npy")
        for x in ["small_i8.npy", "small_i4.npy", "small_i2.npy", "small_i1.npy", "small_u1.npy"] {
            assertSame(x: try bytes(x), y: try bytes("y.npy"), x)
        }
    }

    /// Several named inputs are packed per example; arrays no one reads (beside 'x') are checked only.
    func testNamedInputsAndUnreadArrays() {
        let ids = NumPyArray(shape: [2, 6], integers: Array(1...12))
        let mask = NumPyArray(shape: [2, 6], integers: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], dtype: .uint8)
        let y = NumPyArray(shape: [2], integers: [2, 0])
        assertSame(npz: NumPyArchive.npzData([("input_ids", ids), ("labels", y), ("attention_mask", mask)]), "named")
        let x = NumPyArray(shape: [2, 3], float32: [1, 2, 3, 4, 5, 6])
        assertSame(npz: NumPyArchive.npzData([("extra", NumPyArray(shape: [1], float64: [1])), ("x", x), ("y", y)]), "x and an unread array")
        // Of two members with one name the last is the array.
        assertSame(npz: NumPyArchive.npzData([("x", NumPyArray(shape: [2, 1], float32: [.nan, 0])), ("y", y), ("x", x)]), "duplicate name")
        assertSame(npz: NumPyArchive.npzData([("x", x)]), "no labels")
    }

    /// Each value check keeps its message: the first bad element in C order, wherever the chunks cut.
    func testValueErrorsAreTheSame() throws {
        let y = NumPyArray(shape: [3], integers: [0, 1, 2])
        var values = [Float](repeating: 0.5, count: 3 * 40)
        values[57] = .nan
        values[90] = .infinity
        let cases: [(String, NumPyArray, NumPyArray)] = [
            ("NaN", NumPyArray(shape: [3, 40], float32: values), y),
            ("float64 inputs", NumPyArray(shape: [3, 2], float64: [0, 1, 2, 3, 4, 5]), y),
            ("token id", NumPyArray(shape: [3, 2], integers: [1, 2, 1 << 24, -(1 << 25), 0, 0]), y),
            ("negative token id", NumPyArray(shape: [3, 2], integers: [1, 2, 3, -(1 << 24), 0, 0], dtype: .int32), y),
            ("empty", NumPyArray(shape: [0, 2], float32: []), NumPyArray(shape: [0], integers: [])),
            ("label count", NumPyArray(shape: [2, 2], float32: [0, 1, 2, 3]), y),
            ("float labels with NaN", NumPyArray(shape: [3, 1], float32: [0, 1, 2]), NumPyArray(shape: [3], float64: [0, .nan, 1])),
        ]
        for (what, x, labels) in cases {
            let message = "\(Result { try wholeFile(x: x.npyData(), y: labels.npyData()) })"
            XCTAssertTrue(message.contains("failure"), "\(what) must fail: \(message)")
            assertSame(x: x.npyData(), y: labels.npyData(), what)
            assertSame(npz: NumPyArchive.npzData([("x", x), ("y", labels)]), what)
        }
        XCTAssertThrowsError(try Dataset(npz: ByteArraySource(NumPyArchive.npzData([("x", cases[0].1), ("y", y)])), source: "d.npz", chunkBytes: 7)) {
            XCTAssertTrue("\($0)".contains("flat index 57 (example 1)"), "\($0)")
        }
    }

    /// A damaged member fails its CRC before its contents are judged, as when it was read whole.
    func testCorruptArchivesKeepTheirErrors() throws {
        let x = NumPyArray(shape: [2, 2], float32: [0, 1, 2, 3])
        var npz = NumPyArchive.npzData([("x", x), ("y", NumPyArray(shape: [2], integers: [0, 1]))])
        let nan = Float.nan.bitPattern
        let firstData = 30 + 5 + x.npyData().count - 16   // x's first float: x.npy is the first member
        XCTAssertEqual(Array(npz[firstData..<(firstData + 4)]), [0, 0, 0, 0])
        for k in 0..<4 { npz[firstData + k] = UInt8(truncatingIfNeeded: nan >> (8 * k)) }
        assertSame(npz: npz, "NaN under a stale CRC")
        XCTAssertThrowsError(try Dataset(npz: ByteArraySource(npz), source: "d.npz", chunkBytes: 3)) {
            XCTAssertTrue("\($0)".contains("'x.npy' fails its CRC-32 check"), "\($0)")
        }
        for name in ["data_stored.npz", "data_deflated.npz"] {
            let archive = try bytes(name)
            for cut in stride(from: 0, to: archive.count, by: 23) { assertSame(npz: Array(archive[..<cut]), "\(name) cut at \(cut)", chunks: [7, 1 << 20]) }
        }
    }

    /// Random byte damage: the same data set or the same one-line error, never a trap.
    func testRandomDamageGivesTheSameErrors() throws {
        let stored = try bytes("data_stored.npz"), deflated = try bytes("data_deflated.npz")
        let npy = try bytes("x.npy"), labels = try bytes("y.npy")
        var generator = SplitMix(seed: 15)
        func damaged(_ bytes: [UInt8]) -> [UInt8] {
            var copy = bytes
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                copy[Int(generator.next() % UInt64(copy.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            return copy
        }
        for round in 0..<300 {
            assertSame(npz: damaged(round % 2 == 0 ? stored : deflated), "round \(round)", chunks: [7, 1 << 20])
            assertSame(x: damaged(npy), y: damaged(labels), "npy round \(round)", chunks: [5])
        }
    }

    /// Keeping the first n examples is `prefix(n)` of the whole set, bit for bit, and a bad value
    /// past them is still an error (every element is checked).
    func testKeepingTheFirstExamplesIsThePrefix() throws {
        let digits = [UInt8](try Data(contentsOf: ONNXEncodingTests.repositoryRoot.appendingPathComponent("Examples/digits.npz")))
        let whole = try wholeFile(npz: digits, source: "d.npz")
        for n in [1, 2, 5, 449, 450, 1000] {
            for chunk in [7, Dataset.loadChunkBytes] {
                assertSame({ try Dataset(npz: ByteArraySource(digits), source: "d.npz", chunkBytes: chunk, keepingExamples: n) },
                           { whole.prefix(n) }, "keep \(n), chunk \(chunk)")
            }
        }
        let ids = NumPyArray(shape: [3, 2], integers: [1, 2, 3, 4, 5, 6])
        let mask = NumPyArray(shape: [3, 1], integers: [1, 0, 1], dtype: .uint8)
        let tokens = NumPyArray(shape: [3, 2], integers: [0, -100, 1, 1, 2, 0])
        let named = NumPyArchive.npzData([("input_ids", ids), ("y", tokens), ("attention_mask", mask)])
        assertSame({ try Dataset(npz: ByteArraySource(named), source: "d.npz", chunkBytes: 3, keepingExamples: 2) },
                   { try wholeFile(npz: named, source: "d.npz").prefix(2) }, "named, keep 2")
        let fortran = try bytes("fortran.npy"), y = try bytes("y.npy")
        assertSame({ try Dataset(inputs: ByteArraySource(fortran), labels: ByteArraySource(y), inputsName: "x.npy", labelsName: "y.npy",
                                 chunkBytes: 5, keepingExamples: 1) },
                   { try wholeFile(x: fortran, y: y).prefix(1) }, "fortran, keep 1")
        var values = [Float](repeating: 0, count: 12)
        values[10] = .nan
        let late = NumPyArchive.npzData([("x", NumPyArray(shape: [3, 4], float32: values)), ("y", NumPyArray(shape: [3], integers: [0, 1, 2]))])
        assertSame({ try Dataset(npz: ByteArraySource(late), source: "d.npz", chunkBytes: 7, keepingExamples: 1) },
                   { try wholeFile(npz: late, source: "d.npz") }, "NaN in example 2, keep 1")
    }

    /// `examples: a..<b` holds exactly that slice of the whole set (a calibration group), from any
    /// chunking, of one array, named arrays and Fortran order; the files' example count is kept.
    func testAWindowOfExamplesIsThatSliceOfTheSet() throws {
        let digits = [UInt8](try Data(contentsOf: ONNXEncodingTests.repositoryRoot.appendingPathComponent("Examples/digits.npz")))
        let whole = try wholeFile(npz: digits, source: "d.npz")
        let per = whole.inputs.count / whole.count
        for window in [0..<1, 7..<14, 443..<450, 440..<1000, 0..<450] {
            for chunk in [7, Dataset.loadChunkBytes] {
                let part = try Dataset(npz: ByteArraySource(digits), source: "d.npz", chunkBytes: chunk, examples: window)
                let kept = window.clamped(to: 0..<450)
                XCTAssertEqual(part.inputs.shape, [kept.count] + whole.exampleShape, "\(window)")
                XCTAssertEqual(part.inputs.data.map(\.bitPattern),
                               whole.inputs.data[(kept.lowerBound * per)..<(kept.upperBound * per)].map(\.bitPattern), "\(window), chunk \(chunk)")
                XCTAssertEqual(part.targets, whole.targets.examples(kept), "\(window)")
                XCTAssertEqual(part.examplesInFiles, 450)
            }
        }
        let ids = NumPyArray(shape: [3, 2], integers: [1, 2, 3, 4, 5, 6])
        let mask = NumPyArray(shape: [3, 1], integers: [1, 0, 1], dtype: .uint8)
        let named = NumPyArchive.npzData([("input_ids", ids), ("y", NumPyArray(shape: [3], integers: [0, 1, 2])), ("attention_mask", mask)])
        let namedPart = try Dataset(npz: ByteArraySource(named), source: "d.npz", chunkBytes: 3, examples: 1..<3)
        let namedWhole = try wholeFile(npz: named, source: "d.npz")
        XCTAssertEqual(namedPart.inputs.data, Array(namedWhole.inputs.data[3...]), "named arrays packed per example")
        XCTAssertEqual(namedPart.labels, [1, 2])
        let fortran = try bytes("fortran.npy"), y = try bytes("y.npy")
        let fortranWhole = try wholeFile(x: fortran, y: y)
        let fortranPart = try Dataset(inputs: ByteArraySource(fortran), labels: ByteArraySource(y), inputsName: "x.npy", labelsName: "y.npy",
                                      chunkBytes: 5, examples: 1..<2)
        let fortranPer = fortranWhole.inputs.count / fortranWhole.count
        XCTAssertEqual(fortranPart.inputs.data, Array(fortranWhole.inputs.data[fortranPer..<(2 * fortranPer)]), "fortran order")
        XCTAssertEqual(fortranPart.targets, fortranWhole.targets.examples(1..<2))
    }

    /// Reading from a file gives what reading its bytes gives, and the digest of the files is the
    /// digest of their bytes one after the other.
    func testFilesStreamLikeTheirBytes() throws {
        let path = numpy.appendingPathComponent("data_deflated.npz").path
        let file = try XCTUnwrap(FileByteSource(path: path))
        assertSame({ try Dataset(npz: file, source: "d.npz", chunkBytes: 5) }, { try wholeFile(npz: try bytes("data_deflated.npz"), source: "d.npz") }, "file")
        let x = try XCTUnwrap(FileByteSource(path: numpy.appendingPathComponent("x.npy").path))
        XCTAssertEqual(try Digest.sha256(of: [file, x], chunkBytes: 100), Digest.sha256(try bytes("data_deflated.npz") + bytes("x.npy")))
        XCTAssertNil(FileByteSource(path: numpy.path), "a directory is no regular file")
        XCTAssertNil(FileByteSource(path: numpy.appendingPathComponent("missing.npz").path))
    }
}
