import Foundation
import HutchTensor
import XCTest
@testable import HutchQuantize

/// Cross-checks against Tests/Fixtures/quant, made by make_quant_fixtures.py with numpy alone.
final class NumpyFixtureTests: XCTestCase {
    private struct Fixtures: Decodable {
        var packed_layers: Int
        var cases: [Case]
    }

    private struct Case: Decodable {
        var name: String
        var shape: [Int]
        var axis: Int?
        var weight_bits: [UInt32]
        var results: [Result]
    }

    private struct Result: Decodable {
        var scheme: QuantizationScheme
        var bits: Int
        var codes: [Int32]
        var scale_bits: [UInt32]
        var zero_points: [Int32]
        var squared_error: Double
    }

    private static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/quant")

    private func load() throws -> Fixtures {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("quant_fixtures.json"))
        return try JSONDecoder().decode(Fixtures.self, from: data)
    }

    func testCodesScalesZeroPointsAndErrorsMatchNumpy() throws {
        let fixtures = try load()
        XCTAssertEqual(fixtures.cases.count, 5)
        var checked = 0
        for c in fixtures.cases {
            let weight = Tensor(shape: c.shape, data: c.weight_bits.map(Float.init(bitPattern:)))
            let granularity: Granularity = c.axis.map { .perChannel(axis: $0) } ?? .perTensor
            for r in c.results {
                let label = "\(c.name) \(r.scheme) \(r.bits)"
                let config = WeightQuantizerConfig(scheme: r.scheme, granularity: granularity)
                let q = try WeightQuantizer.quantize(weight, bits: r.bits, config: config)
                XCTAssertEqual(q.codes, r.codes, label)
                XCTAssertEqual(q.scales.map(\.bitPattern), r.scale_bits, label)
                XCTAssertEqual(q.zeroPoints, r.zero_points, label)
                let error = try WeightQuantizer.squaredErrors(weight, bits: [r.bits], config: config)[r.bits]!
                XCTAssertEqual(error, r.squared_error, accuracy: 1e-12 * r.squared_error, label)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 5 * 2 * 8)
    }

    func testReadsThePackedFileNumpyWroteAndWritesTheSameBytes() throws {
        let fixtures = try load()
        let url = Self.directory.appendingPathComponent("quant_fixture.hutchq")
        let layers = try PackedWeightFile.read(from: url)
        XCTAssertEqual(layers.count, fixtures.packed_layers)
        for layer in layers {
            let parts = layer.name.split(separator: "/")
            let c = try XCTUnwrap(fixtures.cases.first { $0.name == parts[0] })
            let r = try XCTUnwrap(c.results.first { "\($0.scheme)\($0.bits)" == parts[1] })
            XCTAssertEqual(layer.weight.codes, r.codes, layer.name)
            XCTAssertEqual(layer.weight.scales.map(\.bitPattern), r.scale_bits, layer.name)
            XCTAssertEqual(layer.weight.zeroPoints, r.zero_points, layer.name)
            XCTAssertEqual(layer.weight.shape, c.shape)
            XCTAssertEqual(layer.weight.axis, c.axis)
        }
        XCTAssertEqual(try PackedWeightFile.encode(layers), [UInt8](try Data(contentsOf: url)))
    }
}
