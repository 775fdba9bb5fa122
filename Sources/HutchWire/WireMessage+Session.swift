/// Handshake, credit, liveness and shutdown messages.

/// HELLO (worker → coordinator): the first message on every (re)connection.
public struct Hello: Hashable, Sendable {
    public var capabilities: Capabilities
    /// Random per worker process; lets the coordinator recognise a worker that reconnected with a
    /// new routing id and keep its leases.
    public var instance: UInt64
    public var name: String
    public var threads: UInt32
    /// Tasks the worker can hold at once (initial credit).
    public var credit: UInt32
    /// Heartbeat interval the worker would like; WELCOME has the final value.
    public var heartbeatMs: UInt32

    public init(capabilities: Capabilities, instance: UInt64, name: String, threads: UInt32,
                credit: UInt32, heartbeatMs: UInt32 = WireLimits.defaultHeartbeatMs) {
        self.capabilities = capabilities; self.instance = instance; self.name = name
        self.threads = threads; self.credit = credit; self.heartbeatMs = heartbeatMs
    }

    func validate() throws(WireError) {
        try Check.name(name, .hello, "name")
        try Check.range(threads, WireLimits.threads, .hello, "threads")
        try Check.range(credit, WireLimits.credit, .hello, "credit")
        try Check.range(heartbeatMs, WireLimits.heartbeatMs, .hello, "heartbeat_ms")
    }
}

/// WELCOME (coordinator → worker): accepts a HELLO and fixes the session's numbers.
public struct Welcome: Hashable, Sendable {
    /// Digest of the job spec; a worker's cache is keyed by it.
    public var job: WireDigest
    /// Changes every coordinator start: a worker seeing a new epoch knows its leases are gone.
    public var epoch: UInt64
    public var heartbeatMs: UInt32
    /// Missed intervals before a peer counts as dead (both directions).
    public var liveness: UInt32
    /// Most credit the worker may hold in total (its HELLO credit may be cut to this).
    public var maxCredit: UInt32
    /// Largest BLOB_REQUEST length the coordinator serves.
    public var maxChunkBytes: UInt32
    /// The coordinator's ZMQ_MAXMSGSIZE (largest frame it accepts).
    public var maxFrameBytes: UInt32

    public init(job: WireDigest, epoch: UInt64, heartbeatMs: UInt32 = WireLimits.defaultHeartbeatMs,
                liveness: UInt32 = WireLimits.defaultLiveness, maxCredit: UInt32,
                maxChunkBytes: UInt32 = WireLimits.defaultChunkBytes,
                maxFrameBytes: UInt32 = UInt32(WireLimits.maxFrameBytes)) {
        self.job = job; self.epoch = epoch; self.heartbeatMs = heartbeatMs; self.liveness = liveness
        self.maxCredit = maxCredit; self.maxChunkBytes = maxChunkBytes; self.maxFrameBytes = maxFrameBytes
    }

    func validate() throws(WireError) {
        try Check.range(heartbeatMs, WireLimits.heartbeatMs, .welcome, "heartbeat_ms")
        try Check.range(liveness, WireLimits.liveness, .welcome, "liveness")
        try Check.range(maxCredit, WireLimits.credit, .welcome, "max_credit")
        try Check.range(maxChunkBytes, WireLimits.chunkBytes, .welcome, "max_chunk_bytes")
        try Check.range(maxFrameBytes, 1024...UInt64(WireLimits.maxFrameBytes), .welcome, "max_frame_bytes")
    }
}

/// CREDIT (worker → coordinator): room for `credit` more tasks (READY in Paranoid Pirate terms).
public struct Credit: Hashable, Sendable {
    public var credit: UInt32
    public init(credit: UInt32) { self.credit = credit }

    func validate() throws(WireError) { try Check.range(credit, WireLimits.credit, .credit, "credit") }
}

/// DISCONNECT (either way): the sender is going away or sends the peer away.
public struct Disconnect: Hashable, Sendable {
    public var reason: DisconnectReason
    public var message: String
    public init(reason: DisconnectReason, message: String = "") { self.reason = reason; self.message = message }

    func validate() throws(WireError) { try Check.text(message, .disconnect, "message") }
}

/// ERROR (either way): the answer to a message that was malformed or not acceptable.
public struct ErrorReply: Hashable, Sendable {
    public var code: WireErrorCode
    /// Command byte of the offending message, 0 when it could not be read.
    public var command: UInt8
    public var message: String
    /// The blob a BLOB_REQUEST asked for, on the ERROR answering it (optional last frame).
    public var digest: WireDigest?
    public init(code: WireErrorCode, command: UInt8, message: String, digest: WireDigest? = nil) {
        self.code = code; self.command = command; self.message = message; self.digest = digest
    }

    /// The reply to a message that failed to decode (message truncated to the text limit).
    public init(answering error: WireError) {
        let code: WireErrorCode = if case .unsupportedVersion = error { .unsupportedVersion } else { .malformed }
        var text = error.description
        while text.utf8.count > WireLimits.textBytes.upperBound { text.removeLast() }
        self.init(code: code, command: error.command?.rawValue ?? 0, message: text)
    }

    func validate() throws(WireError) { try Check.text(message, .error, "message") }
}

/// STATUS (coordinator → `hutch status`): a UTF-8 JSON document (the format of `status --json`).
public struct StatusReport: Hashable, Sendable {
    public var json: String
    public init(json: String) { self.json = json }

    func validate() throws(WireError) { try Check.length(json.utf8.count, WireLimits.statusBytes, .status, "json") }
}
