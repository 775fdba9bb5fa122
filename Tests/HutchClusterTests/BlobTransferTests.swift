@testable import HutchClusterCore
import HutchModel
import HutchSensitivity
import HutchWire
import XCTest

/// Blob transfer between the cores: windowed chunks, digest check, unknown blobs.
final class BlobTransferTests: XCTestCase {
    struct Pair {
        var coordinator: CoordinatorCore
        var worker: WorkerCore
        var computed: [ComputeRequest] = []
        var toWorker: [WireMessage] = []
        var requestsInFlightMax = 0
        var sentToCoordinator: [WireMessage] = []
    }

    /// Runs messages between one coordinator and one worker until quiet; the worker never
    /// finishes a computation, so the test sees what reaches the compute thread.
    func exchange(_ pair: inout Pair, tamper: ((inout BlobChunk) -> Void)? = nil, observe: (WorkerCore) -> Void = { _ in }) {
        let peer: [UInt8] = [7]
        var toCoordinator: [WireMessage] = []
        for case .send(let m) in pair.worker.handle(.tick, now: 0) { toCoordinator.append(m) }
        var now: UInt64 = 1
        while !toCoordinator.isEmpty || !pair.toWorker.isEmpty, now < 10_000 {
            now += 1
            let requests = toCoordinator.filter { if case .blobRequest = $0 { true } else { false } }.count
            pair.requestsInFlightMax = max(pair.requestsInFlightMax, requests)
            for m in toCoordinator {
                pair.sentToCoordinator.append(m)
                for case .send(_, let reply) in pair.coordinator.handle(.message(peer: peer, m), now: now) { pair.toWorker.append(reply) }
            }
            toCoordinator = []
            let inbox = pair.toWorker
            pair.toWorker = []
            for var m in inbox {
                if case .blobChunk(var c) = m, let tamper { tamper(&c); m = .blobChunk(c) }
                for action in pair.worker.handle(.message(m), now: now) {
                    switch action {
                    case .send(let m): toCoordinator.append(m)
                    case .compute(let r): pair.computed.append(r)
                    default: break
                    }
                }
                observe(pair.worker)
            }
        }
    }

    func makePair(blobs: [WireDigest: [UInt8]]) throws -> Pair { try makePair(served: MemoryBlobSource(blobs)) }

    func makePair(served: any ServedBlobSource) throws -> Pair {
        let job = try SensitivityJob(method: .exact, samples: 4, batchSize: 4, layerCount: 1)
        var options = TraceOptions()
        options.method = .exact
        let spec = SensitivityWorkSpec(job: job, source: ModelSource(modelPath: "m"), probesPerCall: 1)
        let core = CoordinatorCore(config: CoordinatorConfig(epoch: 1), spec: spec, options: options, workers: 1, blobs: served)
        var config = WorkerConfig(name: "w", instance: 1)
        config.sharedFilesystem = false
        return Pair(coordinator: core, worker: WorkerCore(config: config))
    }

    func blob(_ count: Int, seed: UInt8) -> (WireDigest, [UInt8]) {
        var state = UInt32(seed) | 1
        let bytes = (0..<count).map { _ -> UInt8 in state = state &* 1_664_525 &+ 1_013_904_223; return UInt8(state >> 24) }
        return (WireDigest(Digest.sha256(bytes))!, bytes)
    }

    func testMultiChunkBlobsArriveVerifiedBeforeTheTaskRuns() throws {
        let (d1, b1) = blob(Int(WireLimits.defaultChunkBytes) * 13 + 17, seed: 1)   // 14 chunks: more than the window
        let (d2, b2) = blob(5, seed: 2)
        var pair = try makePair(blobs: [d1: b1, d2: b2])
        exchange(&pair)
        XCTAssertEqual(pair.computed.count, 1, "the task runs once its blobs are here")
        let held = try XCTUnwrap(pair.worker.fetched as? MemoryBlobStore)
        XCTAssertEqual(pair.computed.first?.blobs, [d1: held.location(d1), d2: held.location(d2)])
        XCTAssertEqual(held.blobs, [d1: b1, d2: b2])
        XCTAssertLessThanOrEqual(pair.requestsInFlightMax, 10 + 1, "at most a window of requests per blob at once")
    }

    func testCorruptedChunksAreRefetchedThenTheTaskFails() throws {
        let (d, b) = blob(1000, seed: 3)
        var pair = try makePair(blobs: [d: b])
        exchange(&pair) { $0.data = $0.data.map { $0 ^ 0xFF } }
        XCTAssertTrue(pair.computed.isEmpty, "a blob that fails its digest is never used")
        let firstFailure = try XCTUnwrap(pair.sentToCoordinator.firstIndex { if case .failure(let f) = $0 { f.failureClass == .retryable } else { false } },
                                         "the task fails retryably")
        let requests = pair.sentToCoordinator[..<firstFailure].filter { if case .blobRequest = $0 { true } else { false } }.count
        XCTAssertEqual(requests, 3, "fetched three times before giving up on the task")
        // every lease of the task fails the same way: the coordinator ends the job (bounded retries)
        XCTAssertTrue(pair.coordinator.finished)
    }

    /// A quantized layer over the worker's inline limit: RESULT lists it as a blob with no body,
    /// and the worker serves it chunk by chunk (BLOB_UNKNOWN for what it does not hold).
    func testAWorkerServesTheResultBlobItListed() throws {
        var config = WorkerConfig(name: "w", instance: 2)
        config.inlineResultBytes = 100
        var worker = WorkerCore(config: config)
        _ = worker.handle(.tick, now: 0)
        let digest = try XCTUnwrap(WireDigest(bytes: Array(repeating: 3, count: 32)))
        _ = worker.handle(.message(.welcome(Welcome(job: digest, epoch: 1, maxCredit: 4))), now: 1)
        let task = TaskAssignment(taskID: 5, leaseID: 9, leaseMs: 1000, kind: .quantize, blobs: [],
                                  body: QuantizeBodies.taskBody(layer: 0, spec: Array("{}".utf8)))
        let computing = worker.handle(.message(.task(task)), now: 2)
        XCTAssertTrue(computing.contains { if case .compute = $0 { true } else { false } }, "\(computing)")
        let (d, layer) = blob(300_000, seed: 9)
        let sent = worker.handle(.computed(taskID: 5, leaseID: 9, .quantized(body: layer)), now: 3)
        guard case .send(.result(let r))? = sent.first(where: { if case .send(.result) = $0 { true } else { false } }) else {
            return XCTFail("no RESULT: \(sent)")
        }
        XCTAssertEqual(r.blobs, [d])
        XCTAssertTrue(r.body.isEmpty)
        var assembled: [UInt8] = []
        while assembled.count < layer.count {
            let reply = worker.handle(.message(.blobRequest(BlobRequest(digest: d, offset: UInt64(assembled.count), length: 65_536))), now: 4)
            guard case .send(.blobChunk(let c))? = reply.first, c.totalBytes == UInt64(layer.count), !c.data.isEmpty else {
                return XCTFail("\(reply)")
            }
            assembled += c.data
        }
        XCTAssertEqual(assembled, layer)
        let unknown = worker.handle(.message(.blobRequest(BlobRequest(digest: digest, offset: 0, length: 10))), now: 5)
        XCTAssertTrue(unknown.contains { if case .send(.blobUnknown) = $0 { true } else { false } }, "\(unknown)")
    }

    func testUnknownBlobIsAnsweredAndTasksWithoutBlobsRunAtOnce() throws {
        let (d, _) = blob(10, seed: 4)
        var pair = try makePair(blobs: [:])
        exchange(&pair)
        XCTAssertEqual(pair.computed.count, 1, "no blobs listed: the task runs from the shared paths")
        // a request for a blob the coordinator does not hold (the worker has a session now)
        let replies = pair.coordinator.handle(.message(peer: [7], .blobRequest(BlobRequest(digest: d, offset: 0, length: 10))), now: 20_000)
        XCTAssertTrue(replies.contains { if case .send(_, .blobUnknown(let u)) = $0 { u.digest == d } else { false } }, "\(replies)")
    }
}
