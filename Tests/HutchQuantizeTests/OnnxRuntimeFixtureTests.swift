import Foundation
import XCTest
@testable import HutchQuantize

/// `QuantizationGrid.quantize` / `dequantize` against onnxruntime's QuantizeLinear and
/// DequantizeLinear on values at and around rounding ties (Tests/Fixtures/quant/make_ort_fixtures.py).
final class OnnxRuntimeFixtureTests: XCTestCase {
    private struct Fixture: Decodable {
        var onnxruntime: String
        var cases: [Case]
    }

    private struct Case: Decodable {
        var onnx_type: String
        var scheme: QuantizationScheme
        var bits: Int
        var axis: Int?
        var shape: [Int]
        var scale_bits: [UInt32]
        var zero_points: [Int32]
        var x_bits: [UInt32]
        var dequantized_bits: [UInt32]
        var codes: [Int32]?
    }

    func testQuantizeAndDequantizeMatchOnnxRuntimeBitForBit() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/quant/ort_quantize_linear.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixture.cases.count, 9)
        var compared = 0
        for c in fixture.cases {
            let grid = try QuantizationGrid(scheme: c.scheme, bits: c.bits)
            let parameters = zip(c.scale_bits, c.zero_points).map {
                AffineParameters(scale: Float(bitPattern: $0), zeroPoint: $1)
            }
            let perRow = c.shape.last ?? 0
            for (i, bits) in c.x_bits.enumerated() {
                let p = parameters[c.axis == nil ? 0 : i / perRow]
                let code = grid.quantize(Float(bitPattern: bits), p)
                if let codes = c.codes {
                    XCTAssertEqual(code, codes[i], "\(c.onnx_type) x = \(Float(bitPattern: bits)) scale \(p.scale)")
                }
                XCTAssertEqual(grid.dequantize(code, p).bitPattern, c.dequantized_bits[i], "\(c.onnx_type) element \(i)")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 2000)
    }
}
