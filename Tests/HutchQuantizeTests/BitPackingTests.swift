import HutchTestSupport
import HutchTensor
import XCTest
@testable import HutchQuantize

final class BitPackingTests: XCTestCase {
    func testRoundTripForEveryWidthAndOddCounts() throws {
        var rng = SplitMix64(seed: 50)
        for bits in Array(1...16) {
            for count in [0, 1, 3, 7, 9, 13, 101, 1001] {
                let values = (0..<count).map { _ in UInt32(rng.next() & ((1 << UInt64(bits)) - 1)) }
                let packed = try BitPacking.pack(values, bits: bits)
                XCTAssertEqual(packed.count, (count * bits + 7) / 8)
                XCTAssertEqual(try BitPacking.unpack(packed, count: count, bits: bits), values, "bits \(bits) count \(count)")
            }
        }
    }

    func testLittleEndianBitOrder() throws {
        // 3-bit values 1, 2, 3, 4 at stream bits 0, 3, 6, 9:
        // byte0 = 1 | 2<<3 | (3 & 3)<<6 = 1 + 16 + 192 = 209; byte1 = (3 >> 2) | 4<<1 = 0 + 8 = 8
        XCTAssertEqual(try BitPacking.pack([1, 2, 3, 4], bits: 3), [209, 8])
        XCTAssertEqual(try BitPacking.pack([0x1234], bits: 16), [0x34, 0x12])
        XCTAssertEqual(try BitPacking.pack([1, 0, 1, 1, 0, 0, 0, 0, 1], bits: 1), [0b0000_1101, 0b1])
        XCTAssertEqual(try BitPacking.pack([0xA, 0x5, 0xF], bits: 4), [0x5A, 0x0F])
    }

    func testBadInputsAreRejected() {
        XCTAssertThrowsError(try BitPacking.pack([8], bits: 3)) {
            XCTAssertEqual($0 as? QuantizerError, .codeOutOfRange(index: 0, code: 8, bits: 3))
        }
        XCTAssertThrowsError(try BitPacking.pack([1], bits: 17))
        XCTAssertEqual(try BitPacking.unpack([0, 0], count: 3, bits: 3), [0, 0, 0])
        XCTAssertThrowsError(try BitPacking.unpack([0], count: 3, bits: 3)) {
            XCTAssertEqual($0 as? QuantizerError, .packedByteCountMismatch(expected: 2, actual: 1))
        }
        XCTAssertThrowsError(try BitPacking.unpack([0xFF], count: 7, bits: 1)) {
            XCTAssertEqual($0 as? QuantizerError, .nonZeroPadding)
        }
    }

    func testQuantizedCodesRoundTripThroughPackingForEveryWidth() throws {
        let w = randomWeight([5, 3, 3], seed: 51, heavyTails: true)  // 45 codes: odd
        for scheme in QuantizationScheme.allCases {
            for bits in Array(1...8) + [12, 16] {
                let q = try WeightQuantizer.quantize(w, bits: bits, config: .init(scheme: scheme))
                let packed = try q.packedCodes()
                XCTAssertEqual(packed.count, (45 * bits + 7) / 8)
                let codes = try QuantizedTensor.codes(fromPacked: packed, count: 45, grid: q.grid)
                XCTAssertEqual(codes, q.codes, "\(scheme) \(bits)")
            }
        }
    }

    func testOffGridCodesCannotBePacked() throws {
        var q = try WeightQuantizer.quantize(randomWeight([2, 4], seed: 52), bits: 1)
        q.codes[3] = 0
        XCTAssertThrowsError(try q.packedCodes()) {
            XCTAssertEqual($0 as? QuantizerError, .codeOutOfRange(index: 3, code: 0, bits: 1))
        }
    }
}
