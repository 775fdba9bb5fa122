import Foundation
import HutchAllocation
import HutchClusterCore
@testable import HutchJobs
import HutchModel
import HutchSensitivity
import XCTest

/// `hutch trace` as a job: the file it writes records what was measured on which inputs.
final class TraceJobTests: JobsTestCase {
    func trace(_ data: DataSource, out: String) throws -> SensitivityResult {
        var options = TraceOptions()
        options.bits = [4, 8]
        let inputs = JobInputs(model: repository("Tests/Fixtures/mlp.onnx"), data: data)
        return try TraceJob(inputs: inputs, options: options, threads: 1, out: out).run()
    }

    func testSensitivityJSONRecordsTheModelAndDataDigestsAndEveryLayer() throws {
        let x = repository("Tests/Fixtures/sensitivity/mlp_x.npy"), y = repository("Tests/Fixtures/sensitivity/mlp_y.npy")
        let result = try trace(.npy(inputs: x, labels: y), out: path("s.json"))
        let report = try SensitivityReport.decode(Data(contentsOf: URL(fileURLWithPath: path("s.json"))), source: "s.json")
        XCTAssertEqual(report.layers.count, result.layers.count)
        XCTAssertEqual(report.job.modelDigest, Digest.sha256(try bytes(repository("Tests/Fixtures/mlp.onnx"))))
        XCTAssertEqual(report.job.dataDigest, Digest.sha256(try bytes(x) + bytes(y)))
        XCTAssertEqual(report.job.toolVersion, hutchVersion)
        XCTAssertEqual(report.quantization?.bits, [4, 8])
        XCTAssertTrue(report.layers.allSatisfy { $0.trace >= 0 })
        XCTAssertEqual(traceSummary(result, outPath: "s.json").split(separator: "\n").count, result.layers.count + 2, "header, a row per layer, total")
    }

    /// tanh_mlp's first layer has a negative true trace: sensitivity.json keeps the estimate in
    /// measured_trace, writes trace 0 for the objective, and the file reads back.
    func testANegativeTraceIsKeptAsMeasuredTraceWithTraceZero() throws {
        var options = TraceOptions()
        options.method = .hutchinson
        options.probes = 200
        options.bits = [4, 8]
        let inputs = JobInputs(model: repository("Tests/Fixtures/tanh_mlp.onnx"), data: .npz(repository("Tests/Fixtures/tanh_mlp_ref.npz")))
        let result = try TraceJob(inputs: inputs, options: options, threads: 1, out: path("s.json")).run()
        let report = try SensitivityReport.decode(Data(contentsOf: URL(fileURLWithPath: path("s.json"))), source: "s.json")
        let negative = try XCTUnwrap(result.layers.first { $0.trace < 0 }, "tanh_mlp has a negative trace")
        let layer = try XCTUnwrap(report.layers.first { $0.node == negative.layer.nodeName })
        XCTAssertEqual(layer.trace, 0)
        XCTAssertEqual(layer.measuredTrace, negative.trace)
        XCTAssertEqual(layer.standardError, negative.standardError)
        XCTAssertTrue(report.layers.filter { $0.node != layer.node }.allSatisfy { $0.measuredTrace == nil })
    }

    /// --activations: each layer's input-activation trace agrees with PyTorch's explicit
    /// activation-Hessian trace (tanh_mlp_ref.npz, atrace:W) within 4 standard errors, and its
    /// quantization error shrinks with every bit.
    func testActivationSensitivitiesAgreeWithPyTorch() throws {
        var options = TraceOptions()
        options.method = .hutchinson
        options.probes = 300
        options.bits = [2, 4, 8]
        let inputs = JobInputs(model: repository("Tests/Fixtures/tanh_mlp.onnx"), data: .npz(repository("Tests/Fixtures/tanh_mlp_ref.npz")))
        var job = TraceJob(inputs: inputs, options: options, threads: 1, out: path("s.json"))
        job.activations = true
        _ = try job.run()
        let report = try SensitivityReport.decode(Data(contentsOf: URL(fileURLWithPath: path("s.json"))), source: "s.json")
        let arrays = try NumPyArchive.readNPZ(contentsOf: URL(fileURLWithPath: repository("Tests/Fixtures/tanh_mlp_ref.npz")))
        for layer in report.layers {
            let a = try XCTUnwrap(layer.activation, layer.node)
            let reference = try XCTUnwrap(arrays["atrace:\(layer.weight)"]).doubles()[0]
            XCTAssertEqual(a.probes, 300)
            XCTAssertLessThanOrEqual(abs(a.trace - reference), 4 * a.standardError, "\(layer.node): \(a.trace) ± \(a.standardError) vs \(reference)")
            let errors = try [2, 4, 8].map { try XCTUnwrap(a.quantizationError[String($0)]) }
            XCTAssertGreaterThan(errors[0], errors[1])
            XCTAssertGreaterThan(errors[1], errors[2])
        }
        XCTAssertEqual(report.layers.first?.activation?.elements, 16, "fc1 reads the flattened 1x4x4 input")
    }

    func testDataThatDoesNotFitTheModelIsRefusedAndNothingIsWritten() {
        assertFails(.invalidData, "per-example shape") { try trace(.npz(repository("Examples/digits.npz")), out: path("s.json")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("s.json")))
    }
}
