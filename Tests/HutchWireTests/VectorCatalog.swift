import HutchWire

/// The messages behind Protocols/vectors/*.hex: at least one per command, with edge values
/// (empty and maximal-ish fields, unknown capability bits, -0.0 and subnormal doubles).
enum VectorCatalog {
    static func digest(_ seed: UInt8) -> WireDigest {
        WireDigest(bytes: (0..<32).map { UInt8(truncatingIfNeeded: Int(seed) &* 31 &+ $0) })!
    }

    static let all: [(name: String, message: WireMessage)] = [
        ("01-hello", .hello(Hello(capabilities: [.sensitivity, .exactTrace, .quantizationError, .quantize],
                                  instance: 0x0123_4567_89AB_CDEF, name: "worker-1", threads: 2, credit: 4))),
        ("01-hello-unknown-capabilities", .hello(Hello(capabilities: Capabilities(rawValue: 0x8000_0000_0000_0011),
                                                       instance: 0, name: "nœud-ü", threads: 4096, credit: 65536,
                                                       heartbeatMs: 600_000))),
        ("02-welcome", .welcome(Welcome(job: digest(1), epoch: 7, maxCredit: 16))),
        ("03-credit", .credit(Credit(credit: 1))),
        ("04-heartbeat", .heartbeat),
        ("05-task-sensitivity", .task(TaskAssignment(taskID: 42, leaseID: 1001, leaseMs: 30_000, kind: .sensitivity,
                                                     blobs: [digest(2), digest(3)], body: [1, 2, 3, 4, 5]))),
        ("05-task-quantize-empty-body", .task(TaskAssignment(taskID: .max, leaseID: 0, leaseMs: 100, kind: .quantize,
                                                             blobs: [], body: []))),
        ("06-result", .result(TaskResult(taskID: 42, leaseID: 1001, kind: .sensitivity, body: [9, 8],
                                         values: [1.5, -0.0, 0x1p-1074, 1e300, -2.25]))),
        ("06-result-quantize-blobs", .result(TaskResult(taskID: 43, leaseID: 1002, kind: .quantize,
                                                        blobs: [digest(4)], body: [], values: []))),
        ("07-failure-retryable", .failure(TaskFailure(taskID: 42, leaseID: 1001, failureClass: .retryable,
                                                      message: "out of memory"))),
        ("07-failure-poison", .failure(TaskFailure(taskID: 44, leaseID: 1003, failureClass: .poison, message: ""))),
        ("08-blob-request", .blobRequest(BlobRequest(digest: digest(2), offset: 262_144, length: 262_144))),
        ("09-blob-chunk", .blobChunk(BlobChunk(digest: digest(2), offset: 10, totalBytes: 16,
                                               data: [0, 1, 2, 3, 4, 5]))),
        ("09-blob-chunk-empty-blob", .blobChunk(BlobChunk(digest: digest(5), offset: 0, totalBytes: 0, data: []))),
        ("10-blob-unknown", .blobUnknown(BlobUnknown(digest: digest(6)))),
        ("11-plan", .plan(PlanBroadcast(digest: digest(7), body: Array("{\"format\":\"hutch.plan\"}".utf8)))),
        ("12-disconnect", .disconnect(Disconnect(reason: .jobComplete, message: "job finished"))),
        ("12-disconnect-expired", .disconnect(Disconnect(reason: .expired))),
        ("13-error", .error(ErrorReply(code: .notWelcomed, command: WireCommand.result.rawValue,
                                       message: "send HELLO first"))),
        ("14-status-request", .statusRequest),
        ("15-status", .status(StatusReport(json: "{\"phase\":\"sensitivity\",\"workers\":2}"))),
    ]
}
