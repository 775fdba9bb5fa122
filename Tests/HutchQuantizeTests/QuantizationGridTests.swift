import XCTest
@testable import HutchQuantize

final class QuantizationGridTests: XCTestCase {
    func testCodeRangesForEveryWidth() throws {
        for bits in 2...16 {
            let s = try QuantizationGrid(scheme: .symmetric, bits: bits)
            XCTAssertEqual(s.minCode, -Int32(1 << (bits - 1)))
            XCTAssertEqual(s.maxCode, Int32(1 << (bits - 1)) - 1)
            XCTAssertEqual(s.step, 1)
        }
        for bits in 1...16 {
            let a = try QuantizationGrid(scheme: .asymmetric, bits: bits)
            XCTAssertEqual(a.minCode, 0)
            XCTAssertEqual(a.maxCode, Int32(1 << bits) - 1)
        }
        let binary = try QuantizationGrid(scheme: .symmetric, bits: 1)
        XCTAssertTrue(binary.isBinary)
        XCTAssertEqual([binary.minCode, binary.maxCode, binary.step], [-1, 1, 2])
    }

    func testWidthsOutsideOneToSixteenAreRejected() {
        for bits in [0, -3, 17, 32] {
            XCTAssertThrowsError(try QuantizationGrid(scheme: .symmetric, bits: bits)) { error in
                XCTAssertEqual(error as? QuantizerError, .bitsOutOfRange(bits))
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    func testPackedValueRoundTripsEveryCodeAndRejectsOffGridCodes() throws {
        for scheme in QuantizationScheme.allCases {
            for bits in 1...8 {
                let grid = try QuantizationGrid(scheme: scheme, bits: bits)
                var seen = Set<UInt32>()
                for code in stride(from: grid.minCode, through: grid.maxCode, by: Int(grid.step)) {
                    let u = try XCTUnwrap(grid.packedValue(of: code))
                    XCTAssertLessThan(u, UInt32(1) << bits)
                    XCTAssertEqual(grid.code(ofPacked: u), code)
                    seen.insert(u)
                }
                XCTAssertEqual(seen.count, 1 << bits, "\(scheme) \(bits)")
                XCTAssertNil(grid.packedValue(of: grid.maxCode + 1))
                XCTAssertNil(grid.packedValue(of: grid.minCode - 1))
            }
        }
        XCTAssertNil(try QuantizationGrid(scheme: .symmetric, bits: 1).packedValue(of: 0))
    }
}
