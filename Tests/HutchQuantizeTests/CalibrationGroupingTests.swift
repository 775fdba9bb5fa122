import HutchModel
import HutchQuantize
import HutchTensor
import XCTest

/// Min-max and percentile calibration combine exactly across groups (min, max and histogram
/// counts), so any grouping of the examples gives bit-identical activation quantization.
final class CalibrationGroupingTests: XCTestCase {
    func testEveryGroupingGivesTheSameRanges() throws {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(130)
        let widths = [4, 8, 3, 8, 5, 8, 6].map { LayerWidths(weightBits: 4, activationBits: $0) }
        let quantizer = try ModelQuantizer(graph: graph, widths: widths)
        for method in [CalibrationMethod.minMax, .percentile(99.9)] {
            let (inputs, outputs) = try quantizer.calibrate(TensorGroups(data.inputs, groupSize: data.count), method: method)
            XCTAssertFalse(inputs.isEmpty)
            for size in [1, 7, 64] {
                let (groupedInputs, groupedOutputs) = try quantizer.calibrate(TensorGroups(data.inputs, groupSize: size), method: method)
                XCTAssertEqual(groupedInputs.map(\.fingerprint), inputs.map(\.fingerprint), "\(method), groups of \(size)")
                XCTAssertEqual(groupedOutputs.mapValues(\.fingerprint), outputs.mapValues(\.fingerprint), "\(method), groups of \(size)")
            }
        }
    }

    func testNoExamplesIsAnError() throws {
        let graph = try ExampleModel.graph()
        let quantizer = try ModelQuantizer(graph: graph, widths: Array(repeating: LayerWidths(weightBits: 4), count: 7))
        let empty = try ExampleModel.data().inputs
        XCTAssertThrowsError(try quantizer.calibrate(TensorGroups(Tensor(shape: [0] + empty.shape.dropFirst(), data: [])), method: .minMax)) {
            XCTAssertTrue("\($0)".contains("no examples"), "\($0)")
        }
    }
}

extension ActivationQuantization {
    /// What the export writes of it, bit for bit.
    var fingerprint: String {
        "\(name) \(bits) \(range.min.bitPattern) \(range.max.bitPattern) \(parameters.scale.bitPattern) \(parameters.zeroPoint)"
    }
}
