import Foundation
@testable import HutchCluster
@testable import HutchClusterCore
import HutchModel
import HutchSensitivity
import HutchWire
import XCTest

/// The worker's compute dispatch, reading files as the worker process does: which outcome each
/// task gets, and that a load failure is retryable (another worker may read the files) while a
/// bad task is poison.
final class ComputeDispatcherTests: XCTestCase {
    let mlp = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mlp.onnx").path

    func request(_ work: ComputeRequest.Work, spec: some Encodable, blobs: [WireDigest: String] = [:]) throws -> ComputeRequest {
        ComputeRequest(taskID: 1, leaseID: 1, work: work, spec: [UInt8](try JSONEncoder().encode(spec)), blobs: blobs)
    }

    func failure(_ outcome: ComputeOutcome) -> (FailureClass, String)? {
        if case .failure(let kind, let message) = outcome { return (kind, message) }
        return nil
    }

    func testAQuantizationErrorTaskGivesOneErrorPerWidth() throws {
        let outcome = ComputeDispatcher.readingFiles().compute(try request(.quantizationError(layer: 1), spec: QuantizationErrorWorkSpec(modelPath: mlp, bits: [2, 8])))
        guard case .errors(let layer, let errors) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(layer, 1)
        XCTAssertEqual(errors.count, 2)
        XCTAssertGreaterThan(errors[0], errors[1], "2 bits lose more than 8")
    }

    /// The fetched blob is read where the worker's store keeps it, not at the task's path.
    func testAFetchedBlobStandsInForTheSharedPath() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: mlp)))
        let digest = Digest.sha256(bytes)
        let spec = QuantizationErrorWorkSpec(modelPath: "/nowhere/mlp.onnx", modelDigest: digest, bits: [4])
        let outcome = ComputeDispatcher.readingFiles().compute(try request(.quantizationError(layer: 0), spec: spec, blobs: [try XCTUnwrap(WireDigest(digest)): mlp]))
        guard case .errors(0, let errors) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(errors.count, 1)
    }

    func testAnUnreadableModelIsRetryableAndALayerOutsideTheModelIsPoison() throws {
        let cache = ComputeDispatcher.readingFiles()
        let missing = failure(cache.compute(try request(.quantizationError(layer: 0), spec: QuantizationErrorWorkSpec(modelPath: "/nowhere/m.onnx", bits: [4]))))
        XCTAssertEqual(missing?.0, .retryable)
        XCTAssertTrue(missing?.1.hasPrefix("cannot load the task's model: /nowhere/m.onnx: cannot read the file (cannot read the model file") == true,
                      missing?.1 ?? "no failure")
        let outside = failure(cache.compute(try request(.quantizationError(layer: 99), spec: QuantizationErrorWorkSpec(modelPath: mlp, bits: [4]))))
        XCTAssertEqual(outside?.0, .poison)
        XCTAssertEqual(outside?.1, "layer 99 is not a quantizable layer of the model")
    }

    func testASensitivityTaskWithoutDataCannotBeLoaded() throws {
        let job = try SensitivityJob(method: .exact, samples: 4, batchSize: 4, layerCount: 3)
        let spec = SensitivityWorkSpec(job: job, source: ModelSource(modelPath: mlp), probesPerCall: 1)
        let task = SensitivityTask(batches: 0..<1, probes: 0..<1, groups: 0..<1)
        let outcome = failure(ComputeDispatcher.readingFiles().compute(try request(.sensitivity(task), spec: spec)))
        XCTAssertEqual(outcome?.0, .retryable)
        XCTAssertEqual(outcome?.1, "cannot load the task's model or data: the task names no data file")
    }

    /// A worker reads its data file a chunk at a time (a fetched blob where its digest names one)
    /// and keeps the examples its tasks read, 0..<samples: the same results as with the whole set.
    func testAWorkerKeepsTheExamplesItsTasksReadWithTheSameResults() throws {
        let data = URL(fileURLWithPath: mlp).deletingLastPathComponent().appendingPathComponent("mlp_ref.npz").path
        let whole = try Dataset(npz: URL(fileURLWithPath: data))
        let job = try SensitivityJob(method: .hutchinson, samples: 3, batchSize: 2, layerCount: 3)
        let digest = Digest.sha256([UInt8](try Data(contentsOf: URL(fileURLWithPath: data))))
        let source = ModelSource(modelPath: mlp, dataNPZ: "/nowhere/data.npz", digests: ["/nowhere/data.npz": digest])
        let spec = SensitivityWorkSpec(job: job, source: source, probesPerCall: 1)
        let task = SensitivityTask(batches: 0..<2, probes: 0..<2, groups: 0..<1)
        let dispatcher = ComputeDispatcher.readingFiles()
        let outcome = dispatcher.compute(try request(.sensitivity(task), spec: spec, blobs: [try XCTUnwrap(WireDigest(digest)): data]))
        guard case .success(let result) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertGreaterThan(whole.count, job.samples)
        XCTAssertEqual(dispatcher.runner?.dataset.count, job.samples)
        let expected = try TaskRunner(graph: try ONNXLoader.load(contentsOf: URL(fileURLWithPath: mlp)), dataset: whole, job: job, probesPerCall: 1).run(task)
        XCTAssertEqual(result.values.map(\.bitPattern), expected.values.map(\.bitPattern))
        XCTAssertEqual(result.exampleCounts, [2, 1])
    }
}

/// The core dispatcher with an injected reader, as the simulator runs it: each file is read once
/// while the tasks name the same spec, a fetched blob is read where the worker's store holds it
/// instead of the task's path, and a reader's failure is retryable.
final class ComputeDispatcherReaderTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    final class Reads: @unchecked Sendable { var log: [String] = [] }

    func dispatcher(_ files: [String: [UInt8]], _ reads: Reads) -> ComputeDispatcher {
        ComputeDispatcher { path, what in
            reads.log.append("\(what) \(path)")
            guard let bytes = files[path] else { throw BodyError("no \(what) at \(path) in memory") }
            return bytes
        }
    }

    func request(_ work: ComputeRequest.Work, spec: some Encodable, blobs: [WireDigest: String] = [:]) throws -> ComputeRequest {
        ComputeRequest(taskID: 1, leaseID: 1, work: work, spec: [UInt8](try JSONEncoder().encode(spec)), blobs: blobs)
    }

    func testSensitivityTasksReadTheModelAndDataOnce() throws {
        let model = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("mlp.onnx")))
        let data = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("mlp_ref.npz")))
        let reads = Reads()
        let compute = dispatcher(["m/mlp.onnx": model, "m/mlp.npz": data], reads)
        let job = try SensitivityJob(method: .exact, samples: 8, batchSize: 4, layerCount: 3)
        let spec = SensitivityWorkSpec(job: job, source: ModelSource(modelPath: "m/mlp.onnx", dataNPZ: "m/mlp.npz"), probesPerCall: 1)
        for batch in 0..<2 {
            // the spec's canonical bytes, as the coordinator sends them in every task
            let task = SensitivityTask(batches: batch..<batch + 1, probes: 0..<0, groups: 0..<1)
            let request = ComputeRequest(taskID: UInt64(batch), leaseID: 1, work: .sensitivity(task), spec: spec.encoded())
            guard case .success(let result) = compute.compute(request) else {
                return XCTFail("batch \(batch) was not computed")
            }
            XCTAssertFalse(result.values.isEmpty)
        }
        XCTAssertEqual(reads.log, ["model m/mlp.onnx", "data m/mlp.npz"])
    }

    func testAFetchedBlobIsReadWhereTheStoreHoldsItAndAReadFailureIsRetryable() throws {
        let model = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("mlp.onnx")))
        let digest = Digest.sha256(model)
        let reads = Reads()
        let compute = dispatcher(["cache/mlp-blob": model], reads)
        let fetched = QuantizationErrorWorkSpec(modelPath: "m/mlp.onnx", modelDigest: digest, bits: [4])
        guard case .errors(0, let errors) = compute.compute(try request(.quantizationError(layer: 0), spec: fetched,
                                                                        blobs: [try XCTUnwrap(WireDigest(digest)): "cache/mlp-blob"])) else {
            return XCTFail("the blob was not used")
        }
        XCTAssertEqual(errors.count, 1)
        XCTAssertEqual(reads.log, ["model cache/mlp-blob"])
        let missing = compute.compute(try request(.quantize(layer: 0), spec: QuantizeWorkSpec(modelPath: "m/gone.onnx", weightBits: [4, 4, 4])))
        guard case .failure(let kind, let message) = missing else { return XCTFail("\(missing)") }
        XCTAssertEqual(kind, .retryable)
        XCTAssertEqual(message, "cannot load the quantize task's model: no model at m/gone.onnx in memory")
        XCTAssertEqual(reads.log, ["model cache/mlp-blob", "model m/gone.onnx"])
    }
}
