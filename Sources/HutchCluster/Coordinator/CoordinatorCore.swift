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
    /// The sensitivity phase is complete and a quantize phase follows: the shell hands the
    /// estimates to the caller, which solves the plan and calls `startQuantize`.
    case phaseComplete([LayerEstimate])
    case finish(CoordinatorOutcome)
}

public enum CoordinatorOutcome: Sendable {
    /// Per-layer estimates, in layer order.
    case sensitivity([LayerEstimate])
    /// Every layer quantized under the plan, canonical order.
    case quantized([QuantizedLayer])
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
    /// Invalid results from one worker before it is sent away.
    public var maxStrikes = 3
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
        var credit: UInt32
        var heartbeatMs: UInt32
        var lastHeard: UInt64
        var lastSent: UInt64
        var lastError: UInt64?
        var leases: Set<UInt64> = []
        var strikes = 0
        var completed = 0
        var joined: UInt64 = 0
    }

    struct Lease: Sendable {
        var id: UInt64
        var peer: [UInt8]
        var deadline: UInt64
    }

    enum WorkItem: Sendable, CustomStringConvertible {
        case sensitivity(SensitivityTask)
        case quantizationError(layer: Int)
        case eigenvalue(layer: Int)
        case quantize(layer: Int)
        var description: String {
            switch self {
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
    }

    var peers: [[UInt8]: Peer] = [:]
    var tasks: [UInt64: TaskState] = [:]
    /// Task ids waiting for a lease, lowest first.
    var queue: [UInt64] = []
    var nextTaskID: UInt64 = 1
    var nextLeaseID: UInt64 = 1
    var roundOpen = 0
    public private(set) var schedule: SensitivitySchedule
    public private(set) var aggregator: TraceAggregator
    public private(set) var finished = false
    public private(set) var duplicates = 0
    public private(set) var started = false
    /// Set when a quantize phase follows the sensitivity phase.
    public let quantizeFollows: Bool
    public private(set) var phase = "sensitivity"
    var quantizeSpec: [UInt8] = []
    var quantizeGraph: Graph?
    var quantized: [QuantizedLayer] = []
    /// Blobs served to workers (model, data), by digest; every TASK lists them.
    var blobs: [WireDigest: [UInt8]]
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
    public private(set) var eigenvalues: [Double?]
    /// ||Q_b(W) − W||² per layer and width, once every quantization-error task is done (nil
    /// when none were requested).
    public var quantizationErrors: [[Int: Double]]? {
        errorSpec == nil || errors.contains { $0 == nil } ? nil : errors.compactMap { $0 }
    }
    /// The plan broadcast (wire.md 5.6), once solved.
    var planBroadcast: PlanBroadcast?

    public init(config: CoordinatorConfig, spec: SensitivityWorkSpec, options: TraceOptions,
                workers: Int, tasksPerWorker: Int = 4, quantizeFollows: Bool = false, blobs: [WireDigest: [UInt8]] = [:],
                quantizationErrors errorSpec: QuantizationErrorWorkSpec? = nil, eigenIterations: Int? = nil) {
        self.config = config
        self.eigenIterations = eigenIterations
        eigenvalues = Array(repeating: nil, count: spec.job.layerCount)
        self.errorSpec = errorSpec
        errorSpecBytes = errorSpec?.encoded() ?? []
        errors = Array(repeating: nil, count: spec.job.layerCount)
        self.blobs = blobs
        blobList = blobs.keys.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        self.quantizeFollows = quantizeFollows
        self.spec = spec
        specBytes = spec.encoded()
        jobDigest = WireDigest(Digest.sha256(specBytes)) ?? WireDigest(bytes: Array(repeating: 0, count: WireDigest.byteCount))!
        schedule = SensitivitySchedule(job: spec.job, options: options, workers: workers, tasksPerWorker: tasksPerWorker)
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
        if !started {
            started = true
            if errorSpec != nil {
                for layer in 0..<spec.job.layerCount {
                    tasks[nextTaskID] = TaskState(task: .quantizationError(layer: layer))
                    queue.append(nextTaskID)
                    nextTaskID += 1
                }
                errorsOpen = spec.job.layerCount
            }
            if eigenIterations != nil {
                for layer in 0..<spec.job.layerCount {
                    tasks[nextTaskID] = TaskState(task: .eigenvalue(layer: layer))
                    queue.append(nextTaskID)
                    nextTaskID += 1
                }
                eigenOpen = spec.job.layerCount
            }
            openRound(&out)
        }
        switch event {
        case .tick:
            expire(now, &out)
        case .malformed(let peer, let error):
            if case .badSignature = error { break }   // not HWP: drop silently
            if var p = peers[peer] {
                p.lastHeard = now
                // at most one ERROR per peer per heartbeat interval
                if let last = p.lastError, now - min(now, last) < UInt64(p.heartbeatMs) { peers[peer] = p; break }
                p.lastError = now
                peers[peer] = p
            }
            out.append(.send(peer: peer, .error(ErrorReply(answering: error))))
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
            out.append(.log("peer \(peerName(peer)) reports error \(e.code) on command \(e.command): \(e.message)"))
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
        case .result(let r):
            addCredit(peer, 1, now, &out, command: nil)
            accept(peer, r, now, &out)
        case .failure(let f):
            addCredit(peer, 1, now, &out, command: nil)
            failed(peer, f, &out)
        case .blobRequest(let r):
            serveBlob(peer, r, now, &out)
        default:
            send(peer, .error(ErrorReply(code: .unexpected, command: message.command.rawValue,
                                         message: "the coordinator does not accept \(message.command) from a worker")), now, &out)
        }
    }

    mutating func welcome(_ peer: [UInt8], _ hello: Hello, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        if finished {
            out.append(.send(peer: peer, .disconnect(Disconnect(reason: .jobComplete, message: "the job is complete"))))
            return
        }
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
        let heartbeat = max(config.heartbeatMs, hello.heartbeatMs)
        peers[peer] = Peer(instance: hello.instance, name: hello.name, credit: min(hello.credit, config.maxCredit),
                           heartbeatMs: heartbeat, lastHeard: now, lastSent: now, leases: kept, joined: now)
        out.append(.log("worker \(hello.name) joined (\(hello.threads) threads, credit \(hello.credit))"))
        send(peer, .welcome(Welcome(job: jobDigest, epoch: config.epoch, heartbeatMs: heartbeat, liveness: config.liveness,
                                    maxCredit: config.maxCredit)), now, &out)
        if let planBroadcast { send(peer, .plan(planBroadcast), now, &out) }
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

    mutating func accept(_ peer: [UInt8], _ r: WireTaskResult, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        guard let state = tasks[r.taskID] else {
            send(peer, .error(ErrorReply(code: .unknownTask, command: WireCommand.result.rawValue,
                                         message: "task \(r.taskID) is not a task of this job")), now, &out)
            return
        }
        if state.lease?.peer == peer { peers[peer]?.leases.remove(r.taskID) }
        if state.done {
            duplicates += 1
            peers[peer]?.leases.remove(r.taskID)
            return
        }
        let task: SensitivityTask
        switch state.task {
        case .quantize(let layer):
            acceptQuantized(peer, r, layer, now, &out)
            return
        case .quantizationError(let layer):
            acceptErrors(peer, r, layer, now, &out)
            return
        case .eigenvalue(let layer):
            guard r.kind == .sensitivity, r.body == EigenvalueBodies.resultBody(layer: layer), r.values.count == 1, r.values[0].isFinite else {
                strike(peer, r.taskID, "result of task \(r.taskID) (eigenvalue of layer \(layer)) needs body format 2 for that layer and one finite value", now, &out)
                return
            }
            complete(r.taskID, peer)
            eigenvalues[layer] = r.values[0]
            eigenOpen -= 1
            completeSensitivity(&out)
            return
        case .sensitivity(let t): task = t
        }
        let result: SensitivityTaskResult
        do {
            result = try validate(r, task)
        } catch {
            strike(peer, r.taskID, error.description, now, &out)
            return
        }
        // Tasks of a schedule cover disjoint cells and each is accepted once, and `validate` checked
        // the shape and finiteness, so `add` fails only on wrong example counts, which it checks
        // before writing any cell: no copy of the aggregator is needed to keep it clean.
        do {
            try aggregator.add(result)
        } catch {
            strike(peer, r.taskID, error.description, now, &out)
            return
        }
        complete(r.taskID, peer)
        roundOpen -= 1
        if roundOpen == 0 { openRound(&out) }
    }

    /// Valid result of a quantize task: the layer, decoded and checked against the model.
    mutating func acceptQuantized(_ peer: [UInt8], _ r: WireTaskResult, _ layer: Int, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        let q: QuantizedLayer
        do {
            guard r.kind == .quantize, r.values.isEmpty, let graph = quantizeGraph else {
                throw BodyError("result of task \(r.taskID) is not a quantize result")
            }
            q = try QuantizeBodies.decodeResult(r.body, layer: layer, graph: graph)
        } catch {
            strike(peer, r.taskID, "\(error)", now, &out)
            return
        }
        complete(r.taskID, peer)
        quantized.append(q)
        roundOpen -= 1
        if roundOpen == 0 {
            do {
                let layers = try QuantizedLayer.assemble([quantized], expected: quantizeGraph?.quantizableLayers.count ?? 0)
                finish(.quantized(layers), &out)
            } catch {
                finish(.failed("\(error)"), &out)
            }
        }
    }

    mutating func complete(_ id: UInt64, _ peer: [UInt8]) {
        if let holder = tasks[id]?.lease?.peer { peers[holder]?.leases.remove(id) }
        tasks[id]?.done = true
        tasks[id]?.lease = nil
        peers[peer]?.completed += 1
    }

    /// Starts the quantize phase: one task per layer under the plan's widths.
    /// `plan` is the plan.json bytes: broadcast to every worker (and to later ones after their
    /// WELCOME), served as a blob and listed in every quantize TASK.
    public mutating func startQuantize(_ spec: QuantizeWorkSpec, graph: Graph, plan: [UInt8], now: UInt64) -> [CoordinatorAction] {
        var out: [CoordinatorAction] = []
        guard !finished, phase == "waiting" else { return out }
        phase = "quantize"
        if let digest = WireDigest(Digest.sha256(plan)) {
            let broadcast = PlanBroadcast(digest: digest, body: plan)
            planBroadcast = broadcast
            blobs[digest] = plan
            blobList.append(digest)
            for key in peers.keys.sorted(by: Self.order) { send(key, .plan(broadcast), now, &out) }
        }
        quantizeSpec = spec.encoded()
        quantizeGraph = graph
        let count = graph.quantizableLayers.count
        for layer in 0..<count {
            tasks[nextTaskID] = TaskState(task: .quantize(layer: layer))
            queue.append(nextTaskID)
            nextTaskID += 1
        }
        roundOpen = count
        out.append(.log("quantize: \(count) layer tasks"))
        dispatch(now, &out)
        return out
    }

    func validate(_ r: WireTaskResult, _ task: SensitivityTask) throws(BodyError) -> SensitivityTaskResult {
        guard r.kind == .sensitivity else { throw BodyError("result of task \(r.taskID) has kind \(r.kind), not sensitivity") }
        let (echo, counts) = try SensitivityBodies.decodeResult(r.body)
        guard echo == task else { throw BodyError("result of task \(r.taskID) is for \(echo), the task is \(task)") }
        let job = spec.job
        let width = job.layers(ofGroups: task.groups).count
        let expected = (job.method == .exact ? 1 : task.probes.count) * task.batches.count * width
        guard r.values.count == expected else {
            throw BodyError("result of task \(r.taskID) has \(r.values.count) values, \(task) needs \(expected)")
        }
        guard r.values.allSatisfy(\.isFinite) else { throw BodyError("result of task \(r.taskID) has a non-finite value") }
        return SensitivityTaskResult(task: task, exampleCounts: counts, values: r.values)
    }

    mutating func strike(_ peer: [UInt8], _ taskID: UInt64, _ why: String, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        send(peer, .error(ErrorReply(code: .invalidResult, command: WireCommand.result.rawValue, message: String(why.prefix(1000)))), now, &out)
        out.append(.log("invalid result from \(peerName(peer)): \(why)"))
        if tasks[taskID]?.lease?.peer == peer { endLease(taskID) }
        guard var p = peers[peer] else { return }
        p.strikes += 1
        peers[peer] = p
        if p.strikes >= config.maxStrikes {
            send(peer, .disconnect(Disconnect(reason: .rejected, message: "\(p.strikes) invalid results")), now, &out)
            drop(peer, reason: "sent \(p.strikes) invalid results", &out)
        }
    }

    mutating func failed(_ peer: [UInt8], _ f: TaskFailure, _ out: inout [CoordinatorAction]) {
        guard var state = tasks[f.taskID] else {
            out.append(.send(peer: peer, .error(ErrorReply(code: .unknownTask, command: WireCommand.failure.rawValue,
                                                             message: "task \(f.taskID) is not a task of this job"))))
            return
        }
        guard !state.done, let lease = state.lease, lease.id == f.leaseID, lease.peer == peer else { return }   // stale
        peers[peer]?.leases.remove(f.taskID)
        state.lease = nil
        state.failures += 1
        if f.failureClass == .poison { state.poisonReports += 1 }
        state.lastFailure = f.message
        tasks[f.taskID] = state
        out.append(.log("task \(f.taskID) \(state.task) failed on \(peerName(peer)) (\(f.failureClass)): \(f.message)"))
        if state.failures >= config.maxFailures || state.poisonReports >= config.maxPoisonReports {
            finish(.failed("task \(f.taskID) \(state.task) failed \(state.failures) times (\(state.poisonReports) reported it poison); last: \(f.message)"), &out)
            return
        }
        enqueue(f.taskID)
    }

    mutating func expire(_ now: UInt64, _ out: inout [CoordinatorAction]) {
        for key in peers.keys.sorted(by: Self.order) {
            guard let p = peers[key] else { continue }
            if now - min(now, p.lastHeard) > UInt64(config.liveness) * UInt64(p.heartbeatMs) {
                out.append(.send(peer: key, .disconnect(Disconnect(reason: .expired, message: "silent for \(now - p.lastHeard) ms"))))
                drop(key, reason: "expired", &out)
            }
        }
        for id in tasks.keys.sorted() {
            if let lease = tasks[id]?.lease, !(tasks[id]?.done ?? true), lease.deadline <= now {
                out.append(.log("lease \(lease.id) of task \(id) expired on \(peerName(lease.peer)); re-queued"))
                peers[lease.peer]?.leases.remove(id)
                endLease(id)
            }
        }
    }

    /// Sends leases to workers with credit: lowest task id first, to the worker holding fewest.
    mutating func dispatch(_ now: UInt64, _ out: inout [CoordinatorAction]) {
        while let id = queue.first {
            let ready = peers.filter { $0.value.credit > 0 }
            guard let target = ready.min(by: { a, b in
                a.value.leases.count != b.value.leases.count ? a.value.leases.count < b.value.leases.count : Self.order(a.key, b.key)
            })?.key, let state = tasks[id] else { return }
            queue.removeFirst()
            let kind: TaskKind, body: [UInt8]
            switch state.task {
            case .sensitivity(let t): (kind, body) = (.sensitivity, SensitivityBodies.taskBody(t, spec: specBytes))
            case .quantize(let layer): (kind, body) = (.quantize, QuantizeBodies.taskBody(layer: layer, spec: quantizeSpec))
            case .quantizationError(let layer):
                (kind, body) = (.quantizationError, QuantizeBodies.taskBody(layer: layer, spec: errorSpecBytes))
            case .eigenvalue(let layer):
                (kind, body) = (.sensitivity, EigenvalueBodies.taskBody(layer: layer, iterations: eigenIterations ?? 20, spec: specBytes))
            }
            let lease = Lease(id: nextLeaseID, peer: target, deadline: now + UInt64(config.leaseMs))
            nextLeaseID += 1
            tasks[id]?.lease = lease
            peers[target]?.credit -= 1
            peers[target]?.leases.insert(id)
            send(target, .task(TaskAssignment(taskID: id, leaseID: lease.id, leaseMs: config.leaseMs, kind: kind,
                                              blobs: blobList, body: body)), now, &out)
        }
    }

    mutating func openRound(_ out: inout [CoordinatorAction]) {
        guard let round = schedule.nextRound(aggregator) else {
            tracesDone = true
            completeSensitivity(&out)
            return
        }
        for task in round {
            tasks[nextTaskID] = TaskState(task: .sensitivity(task))
            queue.append(nextTaskID)
            nextTaskID += 1
        }
        roundOpen = round.count
        out.append(.log("sensitivity round \(schedule.round): \(round.count) tasks"))
    }

    /// Ends the sensitivity phase once the traces and the quantization errors are all in.
    mutating func completeSensitivity(_ out: inout [CoordinatorAction]) {
        guard tracesDone, errorsOpen == 0, eigenOpen == 0, phase == "sensitivity" else { return }
        let estimates = schedule.estimates(aggregator)
        let missing = estimates.firstIndex { $0 == nil }
        if quantizeFollows, missing == nil {
            phase = "waiting"
            out.append(.phaseComplete(estimates.compactMap { $0 }))
            return
        }
        finish(missing.map { .failed("layer \($0): no trace was computed (internal error: a task is missing)") }
               ?? .sensitivity(estimates.compactMap { $0 }), &out)
    }

    mutating func acceptErrors(_ peer: [UInt8], _ r: WireTaskResult, _ layer: Int, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        let bits = errorSpec?.bits ?? []
        guard r.kind == .quantizationError, r.values.count == bits.count, r.values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            strike(peer, r.taskID, "result of task \(r.taskID) (quantization errors of layer \(layer)) needs \(bits.count) finite non-negative values, got \(r.values.count)", now, &out)
            return
        }
        complete(r.taskID, peer)
        errors[layer] = Dictionary(uniqueKeysWithValues: zip(bits, r.values))
        errorsOpen -= 1
        completeSensitivity(&out)
    }

    /// Stops the job now (operator interrupt): every worker gets DISCONNECT(shutdown).
    public mutating func abort(_ why: String) -> [CoordinatorAction] {
        var out: [CoordinatorAction] = []
        finish(.failed(why), &out)
        return out
    }

    mutating func finish(_ outcome: CoordinatorOutcome, _ out: inout [CoordinatorAction]) {
        guard !finished else { return }
        finished = true
        phase = "finished"
        queue.removeAll()
        let message: String
        let reason: DisconnectReason
        switch outcome {
        case .sensitivity, .quantized: (reason, message) = (.jobComplete, "the job is complete")
        case .failed(let why): (reason, message) = (.shutdown, String(why.prefix(1000)))
        }
        for key in peers.keys.sorted(by: Self.order) {
            out.append(.send(peer: key, .disconnect(Disconnect(reason: reason, message: message))))
        }
        out.append(.finish(outcome))
    }

    mutating func drop(_ peer: [UInt8], reason: String, _ out: inout [CoordinatorAction]) {
        guard let p = peers.removeValue(forKey: peer) else { return }
        requeue(p.leases, from: peer)
        out.append(.log("worker \(p.name) \(reason); \(p.leases.count) lease(s) re-queued"))
        out.append(.disconnect(peer: peer))
    }

    mutating func requeue(_ ids: Set<UInt64>, from peer: [UInt8]) {
        for id in ids.sorted() where tasks[id]?.lease?.peer == peer { endLease(id) }
    }

    mutating func endLease(_ id: UInt64) {
        guard tasks[id]?.lease != nil else { return }
        tasks[id]?.lease = nil
        if !(tasks[id]?.done ?? true) { enqueue(id) }
    }

    mutating func enqueue(_ id: UInt64) {
        let at = queue.firstIndex { $0 > id } ?? queue.count
        if !queue.contains(id) { queue.insert(id, at: at) }
    }

    mutating func send(_ peer: [UInt8], _ message: WireMessage, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        peers[peer]?.lastSent = now
        out.append(.send(peer: peer, message))
    }

    func peerName(_ peer: [UInt8]) -> String { peers[peer]?.name ?? peer.map { String($0, radix: 16) }.joined() }

    static func order(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }
}
