import Foundation
import HutchTensor
import XCTest
@testable import HutchQuantize

final class PackedWeightFileTests: XCTestCase {
    private func sampleLayers() throws -> [PackedLayer] {
        [
            PackedLayer(name: "/conv1/Conv.weight", weight: try WeightQuantizer.quantize(
                randomWeight([4, 3, 3, 3], seed: 70), bits: 4)),
            PackedLayer(name: "fc.weight (MatMul, axis 1)", weight: try WeightQuantizer.quantize(
                randomWeight([7, 5], seed: 71), bits: 3,
                config: .init(scheme: .asymmetric, granularity: .perChannel(axis: 1), range: .mse))),
            PackedLayer(name: "per-tensor ü", weight: try WeightQuantizer.quantize(
                randomWeight([3, 11], seed: 72), bits: 8, config: .init(granularity: .perTensor))),
            PackedLayer(name: "binary", weight: try WeightQuantizer.quantize(randomWeight([2, 9], seed: 73), bits: 1)),
            PackedLayer(name: "wide", weight: try WeightQuantizer.quantize(randomWeight([3, 1], seed: 74), bits: 16)),
        ]
    }

    /// Recomputes the trailing CRC after a deliberate edit, to reach the field checks.
    private func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(bytes.dropLast(4))
        withUnsafeBytes(of: CRC32.checksum(out[...]).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    private func problem(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> PackedWeightFileError.Problem? {
        do {
            _ = try PackedWeightFile.decode(bytes, file: "model.hutchq")
            XCTFail("decoded corrupt bytes", file: file, line: line)
            return nil
        } catch {
            XCTAssertTrue(error.description.hasPrefix("model.hutchq: "), file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
            return error.problem
        }
    }

    func testCRC32IsTheZlibChecksum() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)[...]), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([][...]), 0)
    }

    func testRoundTripInMemoryAndOnDisk() throws {
        let layers = try sampleLayers()
        let bytes = try PackedWeightFile.encode(layers)
        XCTAssertEqual(try PackedWeightFile.decode(bytes), layers)
        // Size: header + per layer (name, fixed fields, dims, scales, zero points, codes) + CRC.
        var expected = 24 + 4
        for layer in layers {
            let w = layer.weight
            expected += 4 + layer.name.utf8.count + 1 + 1 + 4 + 4 + 8 * w.shape.count
            expected += 8 * w.parameters.count + 8 + (w.codes.count * w.bits + 7) / 8
        }
        XCTAssertEqual(bytes.count, expected)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hutchq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.hutchq")
        try PackedWeightFile.write(layers, to: url)
        XCTAssertEqual(try PackedWeightFile.read(from: url), layers)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["model.hutchq"])
        XCTAssertEqual(try PackedWeightFile.decode(PackedWeightFile.encode([])), [])
    }

    func testHeaderErrors() throws {
        let bytes = try PackedWeightFile.encode(try sampleLayers())
        XCTAssertEqual(problem([]), .truncated(expectedBytes: 28, actualBytes: 0))
        XCTAssertEqual(problem(Array("PK\u{3}\u{4}not ours at all....................".utf8)), .notAPackedWeightFile)
        var v2 = bytes
        v2[8] = 2
        XCTAssertEqual(problem(v2), .unsupportedVersion(2))
        XCTAssertEqual(problem(Array(bytes.dropLast())), .truncated(expectedBytes: UInt64(bytes.count), actualBytes: bytes.count - 1))
        XCTAssertEqual(problem(Array(bytes.prefix(100))), .truncated(expectedBytes: UInt64(bytes.count), actualBytes: 100))
        XCTAssertEqual(problem(bytes + [0]), .trailingBytes(expectedBytes: UInt64(bytes.count), actualBytes: bytes.count + 1))
        var flipped = bytes
        flipped[bytes.count - 10] ^= 0x10
        guard case .checksumMismatch = problem(flipped) else { return XCTFail("expected checksum mismatch") }
    }

    func testEveryTruncationAndEveryBitFlipIsRejected() throws {
        let bytes = try PackedWeightFile.encode([try sampleLayers()[1]])
        for n in 0..<bytes.count { _ = problem(Array(bytes.prefix(n))) }
        for i in bytes.indices {
            for bit in 0..<8 {
                var corrupt = bytes
                corrupt[i] ^= 1 << bit
                _ = problem(corrupt)
            }
        }
    }

    func testFieldChecksBehindAValidChecksum() throws {
        let layer = PackedLayer(name: "w", weight: try WeightQuantizer.quantize(randomWeight([2, 3], seed: 75), bits: 4))
        let bytes = try PackedWeightFile.encode([layer])
        XCTAssertEqual(bytes.count, 86)  // the worked example in Protocols/packed-weights.md
        // Offsets: header 24, name length 4, name 1 -> bits at 29, scheme 30, axis 31..34,
        // rank 35..38, dims 39..54, scales 55..62, zero points 63..70, code bytes 71..78.
        func edited(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var b = bytes
            edit(&b)
            return resealed(b)
        }
        XCTAssertEqual(problem(edited { $0[29] = 0 }), .invalidField(layer: "w", field: "bits", reason: "0 is outside 1...16"))
        XCTAssertEqual(problem(edited { $0[30] = 7 }), .invalidField(layer: "w", field: "scheme", reason: "must be 0 (symmetric) or 1 (asymmetric)"))
        XCTAssertEqual(problem(edited { $0[31] = 5 }), .invalidField(layer: "w", field: "axis", reason: "5 must be -1 (per tensor) or 0..<2"))
        guard case .invalidField("w", "scales[0]", _) = problem(edited { $0[58] |= 0x80 }) else { return XCTFail("negative scale accepted") }
        guard case .invalidField("w", "zero_points[1]", _) = problem(edited { $0[67] = 3 }) else { return XCTFail("symmetric zero point accepted") }
        guard case .invalidField("w", "code byte count", _) = problem(edited { $0[71] = 99 }) else { return XCTFail("bad code count accepted") }
        guard case .invalidField("header", "layer count", _) = problem(edited { $0[12] = 0 }) else { return XCTFail("unread bytes accepted") }
        guard case .invalidField("#1", "name length", _) = problem(edited { $0[12] = 2 }) else { return XCTFail("missing layer accepted") }
        guard case .invalidField("#0", "name", _) = problem(edited { $0[28] = 0xFF }) else { return XCTFail("bad UTF-8 accepted") }
    }

    func testWriterRejectsInvalidLayersAndLeavesNoFile() throws {
        let good = try sampleLayers()[0]
        func reason(_ layers: [PackedLayer]) -> PackedWeightFileError.Problem? {
            do { _ = try PackedWeightFile.encode(layers, file: "out.hutchq"); return nil } catch { return error.problem }
        }
        guard case .invalidField(_, "name", _) = reason([good, good]) else { return XCTFail("duplicate names") }
        var unnamed = good
        unnamed.name = ""
        guard case .invalidField(_, "name", _) = reason([unnamed]) else { return XCTFail("empty name") }
        var zeroScale = good
        zeroScale.weight.parameters[2].scale = 0
        guard case .invalidField(_, "scales[2]", _) = reason([zeroScale]) else { return XCTFail("zero scale") }
        var offGrid = good
        offGrid.weight.codes[5] = 8
        guard case .invalidField(_, "codes", _) = reason([offGrid]) else { return XCTFail("off-grid code") }
        var missingChannel = good
        missingChannel.weight.parameters.removeLast()
        guard case .invalidField(_, "scales", _) = reason([missingChannel]) else { return XCTFail("channel count") }

        let missingDir = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/m.hutchq")
        XCTAssertThrowsError(try PackedWeightFile.write([good], to: missingDir)) { error in
            guard case .io = (error as? PackedWeightFileError)?.problem else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".hasPrefix(missingDir.path))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missingDir.path))
        XCTAssertThrowsError(try PackedWeightFile.read(from: missingDir))
    }
}
