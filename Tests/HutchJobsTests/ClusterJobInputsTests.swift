import Foundation
import HutchClusterCore
@testable import HutchJobs
import HutchModel
import HutchSensitivity
import XCTest

/// What a cluster job tells its workers and records in job.json about its inputs.
final class ClusterJobInputsTests: JobsTestCase {
    func testWorkersGetAbsolutePathsOfTheModelAndEachDataFile() {
        let cwd = FileManager.default.currentDirectoryPath
        let npz = ClusterJob.source(JobInputs(model: "m.onnx", data: .npz("data/d.npz")))
        XCTAssertEqual(npz.modelPath, cwd + "/m.onnx")
        XCTAssertEqual(npz.dataNPZ, cwd + "/data/d.npz")
        let npy = ClusterJob.source(JobInputs(model: "/abs/m.onnx", data: .npy(inputs: "x.npy", labels: "/abs/y.npy")))
        XCTAssertEqual([npy.inputsNPY, npy.labelsNPY], [cwd + "/x.npy", "/abs/y.npy"])
        XCTAssertEqual(DataSource(npy), .npy(inputs: cwd + "/x.npy", labels: "/abs/y.npy"), "the worker reads what the coordinator named")
    }

    func testJobJSONRecordsTheDataDigestsInOrderAndALatencyTableByItsDigest() throws {
        try Data("layer,bits,milliseconds\n".utf8).write(to: URL(fileURLWithPath: path("latency.csv")))
        let source = ModelSource(modelPath: "/m.onnx", inputsNPY: "/x.npy", labelsNPY: "/y.npy",
                                 digests: ["/m.onnx": "sha256:m", "/x.npy": "sha256:x", "/y.npy": "sha256:y"])
        let document = try ClusterJob.jobDocument(planFlags: ["latency-table": path("latency.csv"), "avg-bits": "4"], options: TraceOptions(),
                                                  source: source, files: ["/m.onnx", "/x.npy", "/y.npy"],
                                                  schedule: .init(workers: 2, tasksPerWorker: nil))
        XCTAssertEqual(document.job.modelDigest, "sha256:m")
        XCTAssertEqual(document.job.dataDigests, ["sha256:x", "sha256:y"])
        XCTAssertEqual(document.job.plan, ["latency-table": Digest.sha256(try bytes(path("latency.csv"))), "avg-bits": "4"])
        XCTAssertEqual(document.inputs, ["model": ["/m.onnx"], "data": ["/x.npy", "/y.npy"]])
    }

    func testRunCannotFinishOnlyOnceEveryLocalWorkerHasExited() throws {
        XCTAssertNil(LocalWorkers.allExited([]), "no local workers: a coordinator waits for remote ones")
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        XCTAssertEqual(LocalWorkers.allExited([exited]),
                       "all 1 local worker(s) exited (status 0) before the job was done; see their messages above")
    }
}
