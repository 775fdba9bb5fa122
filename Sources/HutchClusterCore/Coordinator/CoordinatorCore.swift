import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire

/// What happened to the coordinator: a message or a malformed message from a peer (its ROUTER
/// routing id), or the timer.
public enum CoordinatorEvent: Sendable {
    case message(peer: [UInt8], WireMessage)
    case malformed(peer: [UInt8], WireError)
    case tick
}

/// What the coordinator's shell must do.
public enum CoordinatorAction: Sendable {
    case send(peer: [UInt8], WireMessage)
    /// Forget the peer (its session is over; nothing more is sent to it).
    case disconnect(peer: [UInt8])
    case log(String)
    /// Append this record to the journal. The result already counts in memory; it is durable
    /// once the shell has synced the journal, and a result lost before that is recomputed
    /// (results are deterministic). Sync before writing outputs.
    case persist(JournalRecord)
    /// The sensitivity phase is complete and a quantize phase follows: the shell hands the
    /// estimates to the caller, which solves the plan and calls `startQuantize`.
    case phaseComplete([LayerEstimate])
    case finish(CoordinatorOutcome)
}

public enum CoordinatorOutcome: Sendable {
    /// Per-layer estimates, in layer order.
    case sensitivity([LayerEstimate])
    /// Every layer quantized under the plan, canonical order: the digests of their packed
    /// bodies in `layerStore` (read back one at a time with `quantizedLayer(_:digest:)`).
    case quantized([WireDigest])
    /// The job cannot finish (a poison task, an inconsistent result); one line.
    case failed(String)
}

/// Numbers that govern sessions and leases.
public struct CoordinatorConfig: Sendable {
    public var epoch: UInt64
    public var heartbeatMs: UInt32 = WireLimits.defaultHeartbeatMs
    public var liveness: UInt32 = WireLimits.defaultLiveness
    public var maxCredit: UInt32 = 64
    /// Lease length for one task.
    public var leaseMs: UInt32 = 600_000
    /// Failures of one task (any class) before the job fails.
    public var maxFailures = 5
    /// FAILURE(poison) reports of one task before the job fails.
    public var maxPoisonReports = 2
    /// Invalid results from one worker before it is sent away and quarantined for the job.
    public var maxStrikes = 3
    /// Sessions held at once (workers and anyone who sent HELLO): bounds the peer table.
    public var maxSessions = 1024
    /// Fraction of tasks (a deterministic sample by task id) run by two worker processes and
    /// accepted only when both results are bit-identical (CoordinatorCore+Verify.swift).
    public var verifyFraction = 0.0
    public init(epoch: UInt64) { self.epoch = epoch }
}

/// The sans-IO coordinator of the sensitivity phase: `handle(event, now)` returns what to send.
/// No sockets, no clock (`now` is milliseconds on any monotonic clock), no files.
public struct CoordinatorCore: Sendable {
    public let config: CoordinatorConfig
    public let spec: SensitivityWorkSpec
    public let jobDigest: WireDigest
    let specBytes: [UInt8]

    struct Peer: Sendable {
        var instance: UInt64
        var name: String
        var credit, heartbeatMs: UInt32
        /// When the peer was last heard from and last sent to, and when it last caused an ERROR (ms).
        var lastHeard, lastSent: UInt64
        var lastError: UInt64?
        var leases: Set<UInt64> = []
        var strikes = 0, completed = 0
        var joined: UInt64 = 0
    }

    struct Lease: Sendable {
        var id: UInt64
        var peer: [UInt8]
        var deadline: UInt64
        /// The TASK sent, to send again to a worker that rejoins (CoordinatorCore+Rejoin.swift).
        var assignment: TaskAssignment
    }

    enum WorkItem: Sendable, CustomStringConvertible {
        case sensitivity(SensitivityTask)
        case quantizationError(layer: Int)
        case eigenvalue(layer: Int)
        case quantize(layer: Int)
        case activation(SensitivityTask)
        case measured(MeasuredTask)
        var description: String {
            switch self {
            case .measured(let t): "\(t)"
            case .activation(let t): "activation \(t)"
            case .eigenvalue(let l): "eigenvalue(layer \(l))"
            case .sensitivity(let t): "\(t)"
            case .quantizationError(let l): "quantization_error(layer \(l))"
            case .quantize(let l): "quantize(layer \(l))"
            }
        }
    }

    struct TaskState: Sendable {
        var task: WorkItem
        var done = false
        var lease: Lease?
        var failures = 0
        var poisonReports = 0
        var lastFailure = ""
        /// The worker whose lease of this task last expired or failed.
        var lastPeer: [UInt8]?
    }

    var peers: [[UInt8]: Peer] = [:]
    /// Largest peak resident bytes each worker process (by instance) reported on a RESULT (run.json).
    var peakResidentBytes: [UInt64: UInt64] = [:]
    /// Strike counts and quarantined workers (CoordinatorCore+Quarantine.swift).
    public internal(set) var quarantine = Quarantine()
    /// Since when a peer has held no lease and no credit while tasks waited (CoordinatorCore+Credit).
    var starvedSince: [[UInt8]: UInt64] = [:]
    /// Results of sampled tasks waiting for a second, agreeing one (CoordinatorCore+Verify.swift).
    var verifications: [UInt64: [Candidate]] = [:]
    var tasks: [UInt64: TaskState] = [:]
    /// Task ids waiting for a lease, lowest first.
    var queue: [UInt64] = []
    var nextTaskID: UInt64 = 1
    /// Leases whose unit of credit has not come back yet, with the peer it belongs to. A unit
    /// comes back once: with the lease's first RESULT/FAILURE, or when the lease expires (a
    /// lost TASK or RESULT would otherwise leak it), never twice (duplicated or late answers).
    var unreturned: [UInt64: [UInt8]] = [:]
    var nextLeaseID: UInt64 = 1
    var roundOpen = 0
    public internal(set) var schedule: SensitivitySchedule
    public internal(set) var aggregator: TraceAggregator
    public internal(set) var finished = false
    /// What every worker is told once the coordinator has finished: "job complete", or a
    /// shutdown that a restart may follow (a worker that says HELLO during the final flush must
    /// hear the same, or it would leave a job that is not done).
    var farewell = Disconnect(reason: .jobComplete, message: "the job is complete")
    public internal(set) var duplicates = 0
    /// Results rebuilt from the journal (`replay`).
    public internal(set) var replayed = 0
    public internal(set) var started = false
    /// Set when a quantize phase follows the sensitivity phase.
    public let quantizeFollows: Bool
    public internal(set) var phase = "sensitivity"
    var quantizeSpec: [UInt8] = []
    var quantizeGraph: Graph?
    /// Digests of the accepted quantized layers' bodies, by layer (CoordinatorCore+LayerStore.swift).
    var quantizedDigests: [Int: WireDigest] = [:]
    /// Where accepted quantized layers are kept by digest, out of memory: the state directory's
    /// layers/ for the coordinator process, memory in the simulator. It outlives a crash.
    public var layerStore: any ProducedBlobStore = MemoryBlobStore()
    /// RESULT blobs being pulled from workers, by lease id (CoordinatorCore+ResultPulls.swift).
    var pulls: [UInt64: ResultPull] = [:]
    /// Where the blobs served to workers (model, data) are read, a chunk at a time; every TASK
    /// lists them, and the plan (served from `planBroadcast`) in the quantize phase.
    let served: any ServedBlobSource
    var blobList: [WireDigest]
    /// Quantization-error tasks (one per layer), leased with the first round when requested.
    let errorSpec: QuantizationErrorWorkSpec?
    let errorSpecBytes: [UInt8]
    var errorsOpen = 0
    var errors: [[Int: Double]?]
    var tracesDone = false
    /// Power-iteration tasks (one per layer) when `--eigen` asked for them.
    let eigenIterations: Int?
    var eigenOpen = 0
    public internal(set) var eigenvalues: [Double?]
    /// Activation-trace tasks (CoordinatorCore+Activations.swift), queued once the weight
    /// traces are done, when `--activations` asked for them.
    let activationRequest: ActivationRequest?
    public internal(set) var activationCells: ActivationCells?
    var activationOpen = 0
    /// Measured-loss tasks (CoordinatorCore+Measured.swift) at these widths, when `--measured`
    /// asked for them; queued at the start.
    let measuredBits: [Int]?
    public internal(set) var measuredCells: MeasuredCells?
    var measuredOpen = 0
    /// ||Q_b(W) − W||² per layer and width, once every quantization-error task is done (nil
    /// when none were requested).
    public var quantizationErrors: [[Int: Double]]? {
        errorSpec == nil || errors.contains { $0 == nil } ? nil : errors.compactMap { $0 }
    }
    /// When the current phase's first task was leased (time waiting for workers is not
    /// throughput), and the tasks done before the phase: for the throughput and the ETA.
    public internal(set) var phaseStartMs: UInt64?
    var doneAtPhaseStart = 0
    /// The plan broadcast (wire.md 5.6), once solved.
    var planBroadcast: PlanBroadcast?

    public init(config: CoordinatorConfig, spec: SensitivityWorkSpec, options: TraceOptions,
                workers: Int, tasksPerWorker: Int? = 4, macsPerExample: Int? = nil, quantizeFollows: Bool = false, blobs: any ServedBlobSource = MemoryBlobSource(),
                quantizationErrors errorSpec: QuantizationErrorWorkSpec? = nil, eigenIterations: Int? = nil,
                activations: ActivationRequest? = nil, measuredBits: [Int]? = nil) {
        self.config = config
        self.measuredBits = measuredBits
        activationRequest = activations
        self.eigenIterations = eigenIterations
        eigenvalues = Array(repeating: nil, count: spec.job.layerCount)
        self.errorSpec = errorSpec
        errorSpecBytes = errorSpec?.encoded() ?? []
        errors = Array(repeating: nil, count: spec.job.layerCount)
        served = blobs
        blobList = blobs.digests.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        self.quantizeFollows = quantizeFollows
        self.spec = spec
        specBytes = spec.encoded()
        jobDigest = WireDigest(Digest.sha256(specBytes)) ?? WireDigest(bytes: Array(repeating: 0, count: WireDigest.byteCount))!
        schedule = SensitivitySchedule(job: spec.job, options: options, workers: workers, tasksPerWorker: tasksPerWorker,
                                       macsPerExample: macsPerExample)
        aggregator = TraceAggregator(job: spec.job)
    }

    // MARK: queries for status and tests

    public var tasksDone: Int { tasks.values.filter(\.done).count }
    public var tasksLeased: Int { tasks.values.filter { !$0.done && $0.lease != nil }.count }
    public var tasksQueued: Int { queue.count }
    public var workerCount: Int { peers.count }
    public var round: Int { schedule.round }

    // MARK: events

    public mutating func handle(_ event: CoordinatorEvent, now: UInt64) -> [CoordinatorAction] {
        var out: [CoordinatorAction] = []
        start(&out)
        switch event {
        case .tick:
            expire(now, &out)
            resumePulls(now, &out)
        case .malformed(let peer, let error):
            malformed(peer, error, now, &out)
        case .message(let peer, let message):
            receive(peer, message, now, &out)
        }
        if !finished { dispatch(now, &out) }
        // heartbeats to peers we have been silent to
        if case .tick = event {
            for key in peers.keys.sorted(by: Self.order) where now - min(now, peers[key]?.lastSent ?? now) >= UInt64(peers[key]?.heartbeatMs ?? 0) {
                send(key, .heartbeat, now, &out)
            }
        }
        return out
    }

    /// Creates the first tasks (quantization errors, eigenvalues, round 1) on the first event or replay.
    mutating func start(_ out: inout [CoordinatorAction]) {
        guard !started else { return }
        started = true
        if errorSpec != nil {
            enqueue((0..<spec.job.layerCount).map { .quantizationError(layer: $0) })
            errorsOpen = spec.job.layerCount
        }
        if eigenIterations != nil {
            enqueue((0..<spec.job.layerCount).map { .eigenvalue(layer: $0) })
            eigenOpen = spec.job.layerCount
        }
        queueMeasured()
        openRound(&out)
    }

    /// New tasks for `items`, queued in order under the next task ids.
    mutating func enqueue(_ items: [WorkItem]) {
        for item in items {
            tasks[nextTaskID] = TaskState(task: item)
            queue.append(nextTaskID)
            nextTaskID += 1
        }
    }

    mutating func receive(_ peer: [UInt8], _ message: WireMessage, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        switch message {
        case .hello(let hello):
            welcome(peer, hello, now, &out)
            return
        case .statusRequest:
            out.append(.send(peer: peer, .status(StatusReport(json: statusJSON(now)))))
            return
        case .disconnect:
            if peers[peer] != nil { drop(peer, reason: "left", &out) }
            return
        case .error(let e):
            out.append(.log("peer \(peerName(peer)) reports error \(e.code) on command \(e.command)\(e.digest.map { " (blob \($0))" } ?? ""): \(e.message)"))
            return
        default:
            break
        }
        guard var p = peers[peer] else {
            out.append(.send(peer: peer, .error(ErrorReply(code: .notWelcomed, command: message.command.rawValue,
                                                             message: "no session: send HELLO"))))
            return
        }
        p.lastHeard = now
        peers[peer] = p
        switch message {
        case .heartbeat:
            break
        case .credit(let c):
            addCredit(peer, UInt64(c.credit), now, &out, command: .credit)
        case .result(var r):
            notePeak(peer, &r)
            returnCredit(peer, lease: r.leaseID, now, &out)
            accept(peer, r, now, &out)
        case .failure(let f):
            returnCredit(peer, lease: f.leaseID, now, &out)
            failed(peer, f, &out)
        case .blobRequest(let r):
            serveBlob(peer, r, now, &out)
        case .blobChunk(let c):
            receivePulledChunk(peer, c, now, &out)
        case .blobUnknown(let u):
            pulledBlobUnknown(peer, u.digest, &out)
        default:
            send(peer, .error(ErrorReply(code: .unexpected, command: message.command.rawValue,
                                         message: "the coordinator does not accept \(message.command) from a worker")), now, &out)
        }
    }

    mutating func welcome(_ peer: [UInt8], _ hello: Hello, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        if finished {
            out.append(.send(peer: peer, .disconnect(farewell)))
            return
        }
        guard admit(peer, hello, now, &out) else { return }
        var kept: Set<UInt64> = []
        if let old = peers[peer] {
            if old.instance == hello.instance { kept = old.leases } else { requeue(old.leases, from: peer) }
        }
        // the same worker process reconnected under another routing id: move its leases
        for (key, other) in peers where key != peer && other.instance == hello.instance {
            for id in other.leases { tasks[id]?.lease?.peer = peer }
            kept.formUnion(other.leases)
            peers[key] = nil
        }
        // HELLO's credit is the worker's own count of free slots: older units are settled
        unreturned = unreturned.filter { $0.value != peer && peers[$0.value]?.instance != hello.instance }
        let heartbeat = max(config.heartbeatMs, hello.heartbeatMs)
        peers[peer] = Peer(instance: hello.instance, name: hello.name, credit: min(hello.credit, config.maxCredit),
                           heartbeatMs: heartbeat, lastHeard: now, lastSent: now, leases: kept, joined: now)
        out.append(.log("worker \(hello.name) joined (\(hello.threads) threads, credit \(hello.credit))"))
        send(peer, .welcome(Welcome(job: jobDigest, epoch: config.epoch, heartbeatMs: heartbeat, liveness: config.liveness,
                                    maxCredit: config.maxCredit)), now, &out)
        if let planBroadcast { send(peer, .plan(planBroadcast), now, &out) }
        resendKeptLeases(peer, now, &out)
    }

    mutating func returnCredit(_ peer: [UInt8], lease: UInt64, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        guard unreturned[lease] == peer else { return }
        unreturned[lease] = nil
        addCredit(peer, 1, now, &out, command: nil)
    }

    mutating func addCredit(_ peer: [UInt8], _ n: UInt64, _ now: UInt64, _ out: inout [CoordinatorAction], command: WireCommand?) {
        guard var p = peers[peer] else { return }
        let total = UInt64(p.credit) + n
        if total > UInt64(config.maxCredit), let command {
            send(peer, .error(ErrorReply(code: .creditExceeded, command: command.rawValue,
                                         message: "credit \(total) exceeds max_credit \(config.maxCredit); capped")), now, &out)
        }
        p.credit = UInt32(min(total, UInt64(config.maxCredit)))
        peers[peer] = p
    }

    mutating func send(_ peer: [UInt8], _ message: WireMessage, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        peers[peer]?.lastSent = now
        out.append(.send(peer: peer, message))
    }

    func peerName(_ peer: [UInt8]) -> String { peers[peer]?.name ?? peer.map { String($0, radix: 16) }.joined() }

    static func order(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }
}
