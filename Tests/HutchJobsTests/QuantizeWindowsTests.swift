import Foundation
import HutchAllocation
import HutchAutodiff
import HutchClusterCore
@testable import HutchJobs
import HutchModel
import HutchQuantize
import XCTest

/// `hutch quantize --data` calibrates from the files a window at a time: every output is the bytes
/// of the computations on the whole set in memory (calibration, logits, integer check), for any window.
final class QuantizeWindowsTests: JobsTestCase {
    func makePlan() throws {
        var request = AllocationRequest()
        request.bits = [4]
        _ = try PlanJob(sensitivity: repository("Tests/Fixtures/export/digits_sensitivity.json"), request: request, out: path("plan.json")).run()
    }

    func testWindowsWriteTheBytesOfTheWholeSet() throws {
        let modelPath = repository("Examples/digits_resnet.onnx"), npz = repository("Examples/digits.npz")
        try makePlan()

        // the whole set in memory, as `hutch quantize` computed it before the windows
        let proto = try ONNXModelProto(decoding: try bytes(modelPath))
        let graph = try ONNXLoader.load(model: proto, source: modelPath)
        let (dataset, _) = try DataSource.npz(npz).load()
        let planWidths = try PlanWidths.decode(try Data(contentsOf: URL(fileURLWithPath: path("plan.json"))), source: "plan.json")
        let whole = try ModelQuantizer(graph: graph, widths: try planWidths.widths(for: graph, source: "plan.json"))
            .quantize(calibration: dataset.inputs, method: .minMax)
        let expectedModel = try QDQExporter.export(whole, original: proto, source: modelPath).encoded()
        let logits = try Executor<Float>(graph: whole.fakeQuantizedGraph()).logits(dataset.inputs, batchSize: Executor<Float>.evaluationBatchSize)
        let expectedLogits = NumPyArray(shape: logits.shape, float32: logits.data).npyData()
        let expectedCheck = try IntegerCheck.run(model: whole, inputs: dataset.inputs, labels: dataset.labels).json()

        let exampleBytes = 64 * 4
        for examplesPerWindow in [450, 7, 1] {
            let dir = "w\(examplesPerWindow)"
            try FileManager.default.createDirectory(atPath: path(dir), withIntermediateDirectories: true)
            var job = QuantizeJob(model: modelPath, plan: path("plan.json"), out: path("\(dir)/q.onnx"))
            job.data = .npz(npz)
            (job.logits, job.integerCheck) = (path("\(dir)/logits.npy"), path("\(dir)/integer.json"))
            job.windowBytes = examplesPerWindow * exampleBytes
            _ = try job.run()
            // compared as booleans: a failure would print every byte
            XCTAssertTrue(try bytes(path("\(dir)/q.onnx")) == expectedModel, "quantized.onnx, windows of \(examplesPerWindow)")
            XCTAssertTrue(try bytes(path("\(dir)/logits.npy")) == expectedLogits, "logits, windows of \(examplesPerWindow)")
            XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: path("\(dir)/integer.json"))) == expectedCheck, "integer check, windows of \(examplesPerWindow)")
        }
    }
}
