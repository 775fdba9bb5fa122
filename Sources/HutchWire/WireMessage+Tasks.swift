/// Work messages: task leases, their results and failures, and the plan broadcast.

/// TASK (coordinator → worker): one unit of work under a lease.
public struct TaskAssignment: Hashable, Sendable {
    /// Stable across re-leases; results are deduplicated by it.
    public var taskID: UInt64
    /// New for every lease of the task; a RESULT must echo it.
    public var leaseID: UInt64
    /// How long the lease lasts from receipt (relative: clocks are not shared). The worker should
    /// send FAILURE(retryable) rather than keep working far past it.
    public var leaseMs: UInt32
    public var kind: TaskKind
    /// Blobs (model, data, plan…) the task needs; fetched with BLOB_REQUEST unless cached.
    public var blobs: [WireDigest]
    /// Kind-specific parameters, opaque to the codec (format owned by HutchClusterCore).
    public var body: [UInt8]

    public init(taskID: UInt64, leaseID: UInt64, leaseMs: UInt32, kind: TaskKind,
                blobs: [WireDigest], body: [UInt8]) {
        self.taskID = taskID; self.leaseID = leaseID; self.leaseMs = leaseMs; self.kind = kind
        self.blobs = blobs; self.body = body
    }

    func validate() throws(WireError) {
        try Check.range(leaseMs, WireLimits.leaseMs, .task, "lease_ms")
        try Check.digests(blobs, .task, "blobs")
        try Check.length(body.count, WireLimits.taskBodyBytes, .task, "body")
    }
}

/// RESULT (worker → coordinator): the outcome of one leased task.
public struct TaskResult: Hashable, Sendable {
    public var taskID: UInt64
    public var leaseID: UInt64
    public var kind: TaskKind
    /// Blobs the worker produced (e.g. quantized tensors); the coordinator pulls them with
    /// BLOB_REQUEST sent to the worker.
    public var blobs: [WireDigest]
    /// Kind-specific metadata, opaque to the codec (which layers, how many probes…).
    public var body: [UInt8]
    /// Per-layer partial sums as raw float64, finite only (a NaN is a FAILURE, not a RESULT).
    public var values: [Double]
    /// Optional last field: the worker process's peak resident memory so far (getrusage), for
    /// run.json. Not part of the result: equality, hashing and the journal leave it out.
    public var peakResidentBytes: UInt64?

    public init(taskID: UInt64, leaseID: UInt64, kind: TaskKind, blobs: [WireDigest] = [],
                body: [UInt8], values: [Double], peakResidentBytes: UInt64? = nil) {
        self.taskID = taskID; self.leaseID = leaseID; self.kind = kind; self.blobs = blobs
        self.body = body; self.values = values; self.peakResidentBytes = peakResidentBytes
    }

    func validate() throws(WireError) {
        try Check.digests(blobs, .result, "blobs")
        try Check.length(body.count, WireLimits.resultBodyBytes, .result, "body")
        try Check.length(values.count * 8, 0...(WireLimits.resultValues.upperBound * 8), .result, "values")
        try Check.finite(values, .result, "values")
    }

    /// Bitwise equality (so -0.0 ≠ 0.0): results are compared bit for bit.
    public static func == (a: TaskResult, b: TaskResult) -> Bool {
        a.taskID == b.taskID && a.leaseID == b.leaseID && a.kind == b.kind && a.blobs == b.blobs
            && a.body == b.body && a.values.map(\.bitPattern) == b.values.map(\.bitPattern)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(taskID); hasher.combine(leaseID); hasher.combine(kind); hasher.combine(blobs)
        hasher.combine(body); hasher.combine(values.map(\.bitPattern))
    }
}

/// FAILURE (worker → coordinator): the task could not be done under this lease.
public struct TaskFailure: Hashable, Sendable {
    public var taskID: UInt64
    public var leaseID: UInt64
    public var failureClass: FailureClass
    public var message: String

    public init(taskID: UInt64, leaseID: UInt64, failureClass: FailureClass, message: String) {
        self.taskID = taskID; self.leaseID = leaseID; self.failureClass = failureClass; self.message = message
    }

    func validate() throws(WireError) { try Check.text(message, .failure, "message") }
}

/// PLAN (coordinator → every worker): the bit allocation for the quantize phase. `digest` is the
/// SHA-256 of `body` (plan.json bytes); receivers verify it, the codec cannot (no hashing here).
public struct PlanBroadcast: Hashable, Sendable {
    public var digest: WireDigest
    public var body: [UInt8]
    public init(digest: WireDigest, body: [UInt8]) { self.digest = digest; self.body = body }

    func validate() throws(WireError) { try Check.length(body.count, WireLimits.planBytes, .plan, "body") }
}
