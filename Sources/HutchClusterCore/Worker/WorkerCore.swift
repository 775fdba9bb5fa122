import HutchModel
import HutchSensitivity
import HutchWire

public enum WorkerEvent: Sendable {
    case message(WireMessage)
    case malformed(WireError)
    case tick
    /// A computation started by `.compute` ended.
    case computed(taskID: UInt64, leaseID: UInt64, ComputeOutcome)
}

public enum ComputeOutcome: Sendable {
    case success(SensitivityTaskResult)
    /// A quantize task's RESULT body (the packed layer).
    case quantized(body: [UInt8])
    /// A quantization-error task's squared errors, one per width of its spec.
    case errors(layer: Int, [Double])
    /// An eigenvalue task's result.
    case eigenvalue(layer: Int, Double)
    /// An activation-trace task's result (`ActivationCells` layout).
    case activation(SensitivityTaskResult)
    /// A measured-loss task's result: its batches' example counts and loss sums.
    case measured(MeasuredTask, exampleCounts: [Int], [Double])
    case failure(FailureClass, String)
}

/// One task to run, with the spec its body carried.
public struct ComputeRequest: Sendable {
    public enum Work: Sendable {
        case sensitivity(SensitivityTask)
        case quantizationError(layer: Int)
        case eigenvalue(layer: Int, iterations: Int)
        case quantize(layer: Int)
        case activation(SensitivityTask)
        case measured(MeasuredTask)
    }
    public var taskID: UInt64
    public var leaseID: UInt64
    public var work: Work
    /// JSON: a SensitivityWorkSpec or a QuantizeWorkSpec, as the work says.
    public var spec: [UInt8]
    /// Where the worker's `FetchedBlobStore` holds each blob the TASK listed, fetched from the
    /// coordinator (empty with a shared filesystem): the dispatcher reads them there.
    public var blobs: [WireDigest: String] = [:]
    /// Digests the TASK listed.
    public var needs: [WireDigest] = []
}

public enum WorkerAction: Sendable {
    case send(WireMessage)
    case compute(ComputeRequest)
    /// Close the socket and connect a new one (Paranoid Pirate) before the next send.
    case reconnect
    case log(String)
    /// Stop: nil for success (job complete), else why.
    case exit(String?)
}

public struct WorkerConfig: Sendable {
    public var name: String
    public var instance: UInt64
    public var threads: UInt32 = 1
    /// Tasks held at once (one computing, the others waiting so the compute thread never idles).
    public var slots: UInt32 = 2
    public var heartbeatMs: UInt32 = WireLimits.defaultHeartbeatMs
    public var liveness: UInt32 = WireLimits.defaultLiveness
    /// Read model and data from the paths in the task (true) or fetch the TASK's blobs from the
    /// coordinator by digest (false).
    public var sharedFilesystem = true
    /// A quantize RESULT body larger than this is sent as a blob the coordinator pulls
    /// (wire.md 11.3); the protocol's limit, smaller only in tests.
    public var inlineResultBytes = WireLimits.resultBodyBytes.upperBound
    public init(name: String, instance: UInt64) { self.name = name; self.instance = instance }
}

/// The sans-IO worker: handshake until WELCOME, heartbeats, credit, tasks handed to the
/// shell's compute thread, and their results sent back.
public struct WorkerCore: Sendable {
    public let config: WorkerConfig
    public private(set) var welcomed = false
    var epoch: UInt64?
    var heartbeatMs: UInt32
    var liveness: UInt32
    var lastHeard: UInt64 = 0
    var lastSent: UInt64 = 0
    var helloAt: UInt64 = 0
    /// Tasks held: task id → lease id, in the current epoch.
    var held: [UInt64: UInt64] = [:]
    /// Computations still running whose lease was dropped (epoch change); each frees a slot.
    var abandoned: Set<UInt64> = []
    /// Tasks held (or abandoned) when the last HELLO was sent. That HELLO's credit left their slots
    /// out and the coordinator settled their leases' units with it, so when one ends the worker
    /// gives its slot back itself: CREDIT(1), or counted in `freedDuringHandshake` until WELCOME.
    /// (Found by the simulator: a worker stalled past its liveness lost a unit of credit for good.)
    var busyAtHello: Set<UInt64> = []
    var freedDuringHandshake: UInt32 = 0
    var started = false
    public private(set) var completed = 0
    /// Blobs fetched and verified, by digest (kept for the whole process: content-addressed),
    /// written chunk by chunk to the store the shell gives.
    public internal(set) var fetched: any FetchedBlobStore
    /// RESULT blobs this worker produced (quantized layers over the inline limit), served to the
    /// coordinator until the process ends (wire.md 5.5), from the store the shell gives.
    public internal(set) var produced: any ProducedBlobStore
    var fetches: [WireDigest: BlobFetch] = [:]
    /// Tasks held while their blobs arrive.
    var waiting: [ComputeRequest] = []
    var chunkBytes: UInt32 = WireLimits.defaultChunkBytes
    /// Digest of the last PLAN received and verified.
    public internal(set) var plan: WireDigest?

    public init(config: WorkerConfig, produced: any ProducedBlobStore = MemoryBlobStore(),
                fetched: any FetchedBlobStore = MemoryBlobStore()) {
        self.config = config
        self.produced = produced
        self.fetched = fetched
        heartbeatMs = config.heartbeatMs
        liveness = config.liveness
    }

    public mutating func handle(_ event: WorkerEvent, now: UInt64) -> [WorkerAction] {
        var out: [WorkerAction] = []
        if !started {
            started = true
            hello(now, &out)
        }
        switch event {
        case .tick:
            let window = UInt64(liveness) * UInt64(heartbeatMs)
            if !welcomed {
                if now - min(now, helloAt) >= window { out.append(.reconnect); hello(now, &out) }
            } else if now - min(now, lastHeard) >= window {
                out.append(.log("coordinator silent for \(now - lastHeard) ms; reconnecting"))
                welcomed = false
                out.append(.reconnect)
                hello(now, &out)
            } else {
                resendBlobRequests(now, &out)
                if now - min(now, lastSent) >= UInt64(heartbeatMs) { send(.heartbeat, now, &out) }
            }
        case .malformed(let error):
            lastHeard = now
            if case .badSignature = error { break }
            out.append(.log("malformed message from the coordinator: \(error)"))
        case .message(let message):
            lastHeard = now
            receive(message, now, &out)
        case .computed(let taskID, let leaseID, let outcome):
            let settled = busyAtHello.remove(taskID) != nil
            if settled {
                if welcomed { send(.credit(Credit(credit: 1)), now, &out) } else { freedDuringHandshake += 1 }
            }
            if abandoned.remove(taskID) != nil || held[taskID] != leaseID {
                if welcomed && !settled { send(.credit(Credit(credit: 1)), now, &out) }
                break
            }
            held[taskID] = nil
            completed += 1
            guard welcomed else { break }   // the lease is lost with the session; HELLO's credit counts the slot
            var outcome = outcome
            switch outcome {
            case .success(let r) where !r.values.allSatisfy(\.isFinite), .activation(let r) where !r.values.allSatisfy(\.isFinite):
                // RESULT carries finite values only (wire.md 4.6)
                outcome = .failure(.poison, "\(r.task) produced a non-finite value; the model's loss or curvature overflows on this data")
            case .measured(let t, _, let values) where !values.allSatisfy(\.isFinite):
                outcome = .failure(.poison, "\(t) produced a non-finite loss on this data")
            default: break
            }
            switch outcome {
            case .success(let r):
                send(.result(WireTaskResult(taskID: taskID, leaseID: leaseID, kind: .sensitivity,
                                            body: SensitivityBodies.resultBody(r.task, exampleCounts: r.exampleCounts),
                                            values: r.values)), now, &out)
            case .activation(let r):
                send(.result(WireTaskResult(taskID: taskID, leaseID: leaseID, kind: .sensitivity,
                                            body: ActivationBodies.resultBody(r.task, exampleCounts: r.exampleCounts),
                                            values: r.values)), now, &out)
            case .measured(let t, let counts, let values):
                send(.result(WireTaskResult(taskID: taskID, leaseID: leaseID, kind: .sensitivity,
                                            body: MeasuredBodies.resultBody(t, exampleCounts: counts), values: values)), now, &out)
            case .eigenvalue(let layer, let value):
                if value.isFinite {
                    send(.result(WireTaskResult(taskID: taskID, leaseID: leaseID, kind: .sensitivity,
                                                body: EigenvalueBodies.resultBody(layer: layer), values: [value])), now, &out)
                } else {
                    send(.failure(TaskFailure(taskID: taskID, leaseID: leaseID, failureClass: .poison,
                                              message: "the eigenvalue of layer \(layer) is not finite")), now, &out)
                }
            case .errors(let layer, let values):
                if values.allSatisfy(\.isFinite) {
                    send(.result(WireTaskResult(taskID: taskID, leaseID: leaseID, kind: .quantizationError,
                                                body: QuantizeBodies.errorResultBody(layer: layer), values: values)), now, &out)
                } else {
                    send(.failure(TaskFailure(taskID: taskID, leaseID: leaseID, failureClass: .poison,
                                              message: "a quantization error is not finite")), now, &out)
                }
            case .quantized(let body):
                // too large for a RESULT body: kept as a blob that the coordinator pulls in chunks
                guard body.count > min(config.inlineResultBytes, WireLimits.resultBodyBytes.upperBound),
                      let digest = WireDigest(Digest.sha256(body)) else {
                    send(.result(WireTaskResult(taskID: taskID, leaseID: leaseID, kind: .quantize, body: body, values: [])), now, &out)
                    break
                }
                do {
                    try produced.put(digest, body)
                } catch {
                    send(.failure(TaskFailure(taskID: taskID, leaseID: leaseID, failureClass: .retryable,
                                              message: String("cannot keep the result blob: \(error)".prefix(1000)))), now, &out)
                    break
                }
                send(.result(WireTaskResult(taskID: taskID, leaseID: leaseID, kind: .quantize, blobs: [digest], body: [], values: [])), now, &out)
            case .failure(let cls, let message):
                send(.failure(TaskFailure(taskID: taskID, leaseID: leaseID, failureClass: cls, message: String(message.prefix(1000)))), now, &out)
            }
        }
        return out
    }

    mutating func receive(_ message: WireMessage, _ now: UInt64, _ out: inout [WorkerAction]) {
        switch message {
        case .welcome(let w):
            if let epoch, epoch != w.epoch {
                // the coordinator restarted: its leases are gone
                abandoned.formUnion(held.keys)
                held.removeAll()
            }
            if epoch != nil && epoch != w.epoch { waiting.removeAll() }
            epoch = w.epoch
            chunkBytes = w.maxChunkBytes
            heartbeatMs = w.heartbeatMs
            liveness = w.liveness
            welcomed = true
            if freedDuringHandshake > 0 {
                send(.credit(Credit(credit: freedDuringHandshake)), now, &out)
                freedDuringHandshake = 0
            }
        case .task(let t):
            guard welcomed, held[t.taskID] != t.leaseID else { return }   // a repeated TASK is the same lease
            // The coordinator's credit rules; a lease that expired while this worker still computes it
            // lets one more task in, which simply waits. Far beyond the slots, refuse.
            if UInt32(held.count + abandoned.count) >= 4 * config.slots {
                send(.failure(TaskFailure(taskID: t.taskID, leaseID: t.leaseID, failureClass: .retryable,
                                          message: "no free slot (\(held.count) tasks held, \(config.slots) slots)")), now, &out)
                return
            }
            do {
                let request: ComputeRequest
                switch t.kind {
                case .sensitivity where t.body.first == ActivationBodies.format:
                    let (task, spec) = try ActivationBodies.decodeTask(t.body)
                    request = ComputeRequest(taskID: t.taskID, leaseID: t.leaseID, work: .activation(task), spec: spec)
                case .sensitivity where t.body.first == MeasuredBodies.format:
                    let (task, spec) = try MeasuredBodies.decodeTask(t.body)
                    request = ComputeRequest(taskID: t.taskID, leaseID: t.leaseID, work: .measured(task), spec: spec)
                case .sensitivity where t.body.first == EigenvalueBodies.format:
                    let (layer, iterations, spec) = try EigenvalueBodies.decodeTask(t.body)
                    request = ComputeRequest(taskID: t.taskID, leaseID: t.leaseID, work: .eigenvalue(layer: layer, iterations: iterations), spec: spec)
                case .sensitivity:
                    let (task, spec) = try SensitivityBodies.decodeTask(t.body)
                    request = ComputeRequest(taskID: t.taskID, leaseID: t.leaseID, work: .sensitivity(task), spec: spec)
                case .quantize:
                    let (layer, spec) = try QuantizeBodies.decodeTask(t.body)
                    request = ComputeRequest(taskID: t.taskID, leaseID: t.leaseID, work: .quantize(layer: layer), spec: spec)
                case .quantizationError:
                    let (layer, spec) = try QuantizeBodies.decodeTask(t.body)
                    request = ComputeRequest(taskID: t.taskID, leaseID: t.leaseID, work: .quantizationError(layer: layer), spec: spec)
                }
                held[t.taskID] = t.leaseID
                var withBlobs = request
                withBlobs.needs = t.blobs
                if config.sharedFilesystem || t.blobs.isEmpty {
                    out.append(.compute(withBlobs))
                } else {
                    waiting.append(withBlobs)
                    for d in t.blobs where !fetched.holds(d) && fetches[d] == nil { startFetch(d, now, &out) }
                    releaseWaiting(now, &out)
                }
            } catch {
                send(.failure(TaskFailure(taskID: t.taskID, leaseID: t.leaseID, failureClass: .poison,
                                          message: "\(error)")), now, &out)
            }
        case .disconnect(let d):
            welcomed = false
            switch d.reason {
            case .jobComplete: out.append(.exit(nil))
            case .incompatible, .rejected: out.append(.exit("the coordinator sent this worker away (\(d.reason)): \(d.message)"))
            case .expired: hello(now, &out)
            case .shutdown:
                // the coordinator stops and may come back; keep trying
                abandoned.formUnion(held.keys)
                held.removeAll()
                out.append(.log("coordinator shut down: \(d.message)"))
                helloAt = now
            }
        case .plan(let p):
            // content-addressed: a verified plan is a cached blob, so quantize tasks need no fetch
            do {
                let kept = try fetched.holds(p.digest) ? true : fetched.keepWhole(p.digest, p.body)
                if kept {
                    plan = p.digest
                    releaseWaiting(now, &out)
                } else {
                    out.append(.log("PLAN body does not match its digest \(p.digest); ignored"))
                }
            } catch {
                out.append(.log("cannot keep the PLAN \(p.digest): \(error)"))
            }
        case .blobChunk(let chunk):
            receiveChunk(chunk, now, &out)
        case .blobRequest(let r):
            // the coordinator pulls a RESULT blob this worker listed
            send(BlobServing.answer(r, maxChunk: chunkBytes) { produced.read(r.digest, offset: $0, length: $1) }, now, &out)
        case .blobUnknown(let u):
            if fetches.removeValue(forKey: u.digest) != nil { fetched.discard(u.digest) }
            failWaiting(needing: u.digest, "the coordinator does not hold blob \(u.digest)", now, &out)
        case .error(let e):
            if e.code == .notWelcomed {
                // one HELLO per lost session: the messages sent before it each draw this ERROR
                // (a restarted coordinator); a lost HELLO is retried on the tick
                if welcomed { welcomed = false; hello(now, &out) }
            } else if let d = e.digest, fetches.removeValue(forKey: d) != nil {
                // the coordinator cannot serve a blob this worker fetches (its file shrank): the
                // tasks that need it fail now, rather than re-requesting until their leases expire
                fetched.discard(d)
                out.append(.log("coordinator error \(e.code) serving blob \(d): \(e.message)"))
                failWaiting(needing: d, "the coordinator cannot serve blob \(d): \(e.message)", now, &out)
            } else { out.append(.log("coordinator error \(e.code)\(e.digest.map { " (blob \($0))" } ?? ""): \(e.message)")) }
        default:
            break   // HEARTBEAT (counted above), PLAN and blobs are for later phases
        }
    }

    mutating func hello(_ now: UInt64, _ out: inout [WorkerAction]) {
        helloAt = now
        busyAtHello = Set(held.keys).union(abandoned)
        freedDuringHandshake = 0
        let free = Int(config.slots) - held.count - abandoned.count
        send(.hello(Hello(capabilities: [.sensitivity, .exactTrace, .quantizationError, .quantize, .sharedFilesystem], instance: config.instance,
                          name: config.name, threads: config.threads, credit: UInt32(max(1, free)),
                          heartbeatMs: config.heartbeatMs)), now, &out)
    }

    mutating func send(_ message: WireMessage, _ now: UInt64, _ out: inout [WorkerAction]) {
        lastSent = now
        out.append(.send(message))
    }
}
