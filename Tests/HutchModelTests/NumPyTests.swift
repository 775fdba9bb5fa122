import HutchTestSupport
import Foundation
import XCTest
@testable import HutchModel

/// .npy/.npz reading against files NumPy wrote (Tests/Fixtures/model/numpy), and round trips
/// through Hutch's writers.
final class NumPyTests: XCTestCase {
    private let directory = modelFixtures.appendingPathComponent("numpy")
    private func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The values make_numpy.py wrote: arange(384) / 100 - 1 in float32, shape [2, 3, 8, 8].
    private let expectedX: [Float] = (0..<384).map { Float($0) / 100 - 1 }

    private func expectDataError(_ body: () throws -> Void, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case .invalidData(let message)? = error as? ModelError else {
                return XCTFail("expected invalidData, got \(error)", file: file, line: line)
            }
            XCTAssertFalse(message.contains("\n"), file: file, line: line)
            for part in parts { XCTAssertTrue(message.contains(part), "'\(part)' missing in: \(message)", file: file, line: line) }
        }
    }

    func testFormatVersions1To3() throws {
        for version in 1...3 {
            let array = try NumPyArchive.readNPY(contentsOf: url("x_v\(version).npy"))
            XCTAssertEqual(array.dtype, .float32)
            XCTAssertEqual(array.shape, [2, 3, 8, 8])
            XCTAssertEqual(array.floats(), expectedX, "version \(version)")
        }
    }

    func testIntegerAndDoubleDtypes() throws {
        for (name, dtype) in [("i8", NumPyArray.DType.int64), ("i4", .int32), ("i2", .int16), ("i1", .int8)] {
            let array = try NumPyArchive.readNPY(contentsOf: url("small_\(name).npy"))
            XCTAssertEqual(array.dtype, dtype)
            XCTAssertEqual(array.shape, [2, 3])
            XCTAssertEqual(array.integers(), [-2, -1, 0, 1, 2, 3], name)
        }
        let bytes = try NumPyArchive.readNPY(contentsOf: url("small_u1.npy"))
        XCTAssertEqual(bytes.integers(), [0, 1, 2, 3, 4, 5])
        let doubles = try NumPyArchive.readNPY(contentsOf: url("small_f8.npy"))
        XCTAssertEqual(doubles.dtype, .float64)
        XCTAssertNil(doubles.integers())
        XCTAssertEqual(doubles.floats(), [-2, -1, 0, 1, 2, 3])
        let scalar = try NumPyArchive.readNPY(contentsOf: url("scalar.npy"))
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.floats(), [1.5])
    }

    func testFortranOrderIsReorderedAndBigEndianRefused() throws {
        // numpy.asfortranarray(arange(6).reshape(2, 3)) is stored column-major: 0 3 1 4 2 5.
        let fortran = try NumPyArchive.readNPY(contentsOf: url("fortran.npy"))
        XCTAssertEqual(fortran.shape, [2, 3])
        XCTAssertEqual(fortran.floats(), [0, 1, 2, 3, 4, 5])
        let raw = try [UInt8](Data(contentsOf: url("fortran.npy")))
        XCTAssertEqual(Array(raw[(raw.count - 24)...]), NumPyArray(shape: [6], float32: [0, 3, 1, 4, 2, 5]).bytes)
        expectDataError({ _ = try NumPyArchive.readNPY(contentsOf: url("bigendian.npy")) }, contains: ["bigendian.npy", "big-endian", ">f4"])
    }

    func testTruncatedAndGarbageNPY() throws {
        let bytes = try [UInt8](Data(contentsOf: url("x.npy")))
        for cut in [0, 5, 9, 11, 60, bytes.count - 1] {
            XCTAssertThrowsError(try NumPyArray(npy: Array(bytes[..<cut]), source: "cut.npy")) { error in
                XCTAssertNotNil(error as? ModelError, "cut \(cut)")
            }
        }
        expectDataError({ _ = try NumPyArray(npy: Array("hello world, not numpy".utf8), source: "g.npy") }, contains: ["g.npy", "magic"])
    }

    func testNPZStoredAndDeflated() throws {
        for name in ["data_stored.npz", "data_deflated.npz"] {
            let arrays = try NumPyArchive.readNPZ(contentsOf: url(name))
            XCTAssertEqual(Set(arrays.keys), ["x", "y"], name)
            XCTAssertEqual(arrays["x"]?.floats(), expectedX, name)
            XCTAssertEqual(arrays["y"]?.integers(), [3, 9], name)
        }
    }

    func testCorruptNPZ() throws {
        var bytes = try [UInt8](Data(contentsOf: url("data_stored.npz")))
        // Flip one bit of x's data (well inside the first member): the CRC must catch it.
        bytes[400] ^= 0x10
        expectDataError({ _ = try NumPyArchive.readNPZ(bytes, source: "bad.npz") }, contains: ["bad.npz", "'x.npy'", "CRC"])
        let deflated = try [UInt8](Data(contentsOf: url("data_deflated.npz")))
        for cut in stride(from: 0, to: deflated.count, by: 37) {
            XCTAssertThrowsError(try NumPyArchive.readNPZ(Array(deflated[..<cut]), source: "cut.npz")) { error in
                XCTAssertNotNil(error as? ModelError, "cut \(cut)")
            }
        }
        var damaged = deflated
        damaged[100] ^= 0xFF
        XCTAssertThrowsError(try NumPyArchive.readNPZ(damaged, source: "d.npz")) { XCTAssertNotNil($0 as? ModelError) }
    }

    func testNPYAndNPZRoundTrip() throws {
        let arrays: [(name: String, array: NumPyArray)] = [
            ("x", NumPyArray(shape: [2, 3], float32: [1, -2, 3.5, .pi, 0, -0])),
            ("d", NumPyArray(shape: [3], float64: [1e-300, 2, -3])),
            ("y", NumPyArray(shape: [2], integers: [7, -1])),
            ("b", NumPyArray(shape: [1, 2, 2], integers: [0, 255, 1, 2], dtype: .uint8)),
            ("s", NumPyArray(shape: [4], integers: [-5, 4, 3, 2], dtype: .int32)),
        ]
        for (_, array) in arrays {
            XCTAssertEqual(try NumPyArray(npy: array.npyData(), source: "t"), array)
            XCTAssertEqual(array.npyData().count % 64, (array.bytes.count) % 64, "header must pad the data start to 64 bytes")
        }
        let read = try NumPyArchive.readNPZ(NumPyArchive.npzData(arrays), source: "t.npz")
        XCTAssertEqual(read.count, arrays.count)
        for (name, array) in arrays { XCTAssertEqual(read[name], array, name) }
    }

    func testWrittenFilesReadBackByNumPyLayout() throws {
        // The written .npy must be byte-identical to what numpy.save writes for the same array.
        let numpyBytes = try [UInt8](Data(contentsOf: url("y.npy")))
        XCTAssertEqual(NumPyArray(shape: [2], integers: [3, 9]).npyData(), numpyBytes)
        let x = try NumPyArchive.readNPY(contentsOf: url("x.npy"))
        XCTAssertEqual(x.npyData(), try [UInt8](Data(contentsOf: url("x.npy"))))
    }

    func testUnreadableFileIsNamed() {
        XCTAssertThrowsError(try NumPyArchive.readNPY(contentsOf: url("missing.npy"))) { error in
            guard case .unreadableFile(let path, _)? = error as? ModelError else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("missing.npy"))
        }
    }
}

final class NumPyHostileInputTests: XCTestCase {
    func testRandomByteDamageNeverTraps() throws {
        let npz = try [UInt8](Data(contentsOf: modelFixtures.appendingPathComponent("numpy/data_deflated.npz")))
        let npy = try [UInt8](Data(contentsOf: modelFixtures.appendingPathComponent("numpy/small_i8.npy")))
        var generator = SplitMix(seed: 5)
        for _ in 0..<1500 {
            var a = npz, b = npy
            a[Int(generator.next() % UInt64(a.count))] = UInt8(truncatingIfNeeded: generator.next())
            b[Int(generator.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: generator.next())
            do { _ = try NumPyArchive.readNPZ(a, source: "f.npz") } catch is ModelError {} catch { XCTFail("\(error)") }
            do { _ = try NumPyArray(npy: b, source: "f.npy") } catch is ModelError {} catch { XCTFail("\(error)") }
        }
    }

    func testHeaderWithHugeShapeIsRefused() {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 4), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let bytes = NumPyArray.magic + [1, 0] + [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
        XCTAssertThrowsError(try NumPyArray(npy: bytes, source: "h.npy")) { error in
            XCTAssertTrue("\(error)".contains("h.npy"), "\(error)")
        }
    }
}
