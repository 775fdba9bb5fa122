import Foundation
import HutchModel
import XCTest

/// A `--fetch-blobs` worker writes the model and data to disk as they arrive: without --cache
/// into its temporary directory, removed when it exits; the outputs are byte-identical to
/// hutch trace, plan and quantize on the same files.
extension ClusterCommandTests {
    func testAFetchingWorkerWithoutCacheGivesTheSameBytesAndLeavesNoFiles() throws {
        let inputs = directory.appendingPathComponent("fetch-inputs")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        for name in ["digits_resnet.onnx", "digits.npz"] {
            try FileManager.default.copyItem(at: HutchProcess.repositoryRoot.appendingPathComponent("Examples/\(name)"),
                                             to: inputs.appendingPathComponent(name))
        }
        let model = inputs.appendingPathComponent("digits_resnet.onnx").path, data = inputs.appendingPathComponent("digits.npz").path
        let flags = ["--model", model, "--data", data, "--samples", "32", "--batch-size", "16"]
        let reference = try trace(flags)
        let plan = directory.appendingPathComponent("fetch-plan.json"), onnx = directory.appendingPathComponent("fetch-q.onnx")
        let sensitivity = directory.appendingPathComponent("fetch-reference.json")
        try reference.write(to: sensitivity)
        let planned = try HutchProcess.run(["plan", "--sensitivity", sensitivity.path, "--avg-bits", "4", "--out", plan.path])
        XCTAssertEqual(planned.status, 0, planned.stderr)
        let quantized = try HutchProcess.run(["quantize", "--model", model, "--plan", plan.path, "--data", data, "--out", onnx.path])
        XCTAssertEqual(quantized.status, 0, quantized.stderr)

        let out = directory.appendingPathComponent("fetch-state"), tmp = directory.appendingPathComponent("fetch-tmp")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let coordinator = try start(["coordinator", "--bind", "tcp://127.0.0.1:*", "--workers", "1"] + flags
                                    + ["--avg-bits", "4", "--state", out.path], log: "fetch-coordinator")
        guard let endpoint = announcedEndpoint("fetch-coordinator") else { return }
        try FileManager.default.removeItem(at: inputs)   // the worker cannot read them
        let worker = try start(["worker", "--connect", endpoint, "--name", "fetcher", "--threads", "1", "--fetch-blobs"], log: "fetcher",
                               environment: ["TMPDIR": tmp.path])
        XCTAssertEqual(wait(coordinator, 120, "the coordinator"), 0, stderr("fetch-coordinator") + stderr("fetcher"))
        XCTAssertEqual(wait(worker, 10, "the worker"), 0, stderr("fetcher"))
        XCTAssertEqual(stderr("fetcher").components(separatedBy: "fetched blob").count - 1, 2, stderr("fetcher"))
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("plan.json")), try Data(contentsOf: plan))
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("quantized.onnx")), try Data(contentsOf: onnx))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp.path), [], "the fetched blobs went with the worker's directory")
    }
}
