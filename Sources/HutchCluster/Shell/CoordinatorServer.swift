import HutchClusterCore
import HutchSensitivity
import HutchWire

/// The coordinator's ZeroMQ shell: a bound ROUTER and a loop that moves bytes between it and a
/// `CoordinatorCore`. All decisions are the core's.
public final class CoordinatorServer {
    let context: ZMQContext
    let socket: ZMQSocket
    /// Admits authorized CURVE workers (nil without CURVE); stopped after the socket closed.
    let zap: ZAPHandler?
    /// The endpoint actually bound (with the port the system chose for `:*`).
    public let endpoint: String
    var closed = false
    /// Where accepted results go (`.persist`); nil runs without a journal.
    public var journal: JournalWriter?
    /// A phase end or finish the core reported while `keepingAlive` served it; `run` acts on it first.
    var pendingStop: StopReason?

    /// With `curve`, the ROUTER is a CURVE server and a ZAP handler admits only the authorized
    /// worker keys; `securityLog` gets every refusal (from the handler's thread).
    public init(bind: String, curve: CurveServerConfig? = nil,
                securityLog: @escaping @Sendable (String) -> Void = { _ in }) throws(ZMQError) {
        let context = try ZMQContext()
        self.context = context
        // the handler must listen before the socket binds: libzmq admits any CURVE client otherwise
        var security: (config: CurveServerConfig, zap: ZAPHandler)?
        if let curve {
            security = (curve, try ZAPHandler(context: context, authorized: curve.authorized, log: securityLog))
        }
        zap = security?.zap
        socket = try ZMQSocket.coordinatorRouter(context, bind: bind, curve: security)
        endpoint = try socket.lastEndpoint
    }

    deinit {
        socket.close()
        zap?.stop()
    }

    /// Connections the ZAP handler refused so far (0 without CURVE).
    public var refusedConnections: Int { zap?.denials ?? 0 }

    /// Runs until the core finishes (then flushes the DISCONNECTs and closes) or completes a
    /// phase that the caller continues (returned as `.sensitivity`, the socket stays open: call
    /// the core's next phase, `perform` its actions and `run` again).
    /// `abandon` is asked on every tick; a reason ends the run as failed (e.g. every local
    /// worker process exited).
    public func run(_ core: inout CoordinatorCore, log: (String) -> Void,
                    progress: (CoordinatorCore) -> Void = { _ in },
                    abandon: () -> String? = { nil }) throws -> CoordinatorOutcome {
        guard !closed else { return .failed("the coordinator's socket is closed") }
        let tickMs = tickInterval(core)
        // messages that waited while the caller worked between phases go first: a tick now
        // would expire workers whose heartbeats are simply still queued
        var nextTick = MonotonicClock.nowMs + tickMs
        let pending = pendingStop
        pendingStop = nil
        switch pending {
        case .finished(let outcome)?: flush(&core, log: log); return outcome
        case .phase(let estimates)?: return .sensitivity(estimates)
        case nil: break
        }
        while true {
            let (actions, ticked) = try turn(&core, nextTick: &nextTick, tickMs: tickMs, log: log)
            if ticked, let why = abandon() {
                // what was accepted is durable before the workers hear of the stop
                try perform(actions, log: log)
                try journal?.sync()
                try perform(core.abort(why), log: log)
                flush(&core, log: log)
                return .failed(why)
            }
            let stop = try perform(actions, log: log)
            if !actions.isEmpty { progress(core) }
            if let stop {
                if case .finished(let outcome) = stop {
                    flush(&core, log: log)
                    return outcome
                }
                if case .phase(let estimates) = stop { return .sensitivity(estimates) }
            }
        }
    }

    /// The loop's timer: a fifth of the heartbeat interval, within 20–200 ms.
    func tickInterval(_ core: CoordinatorCore) -> UInt64 { UInt64(max(20, min(200, Int(core.config.heartbeatMs) / 5))) }

    /// One turn of the serving loop: the tick when it is due (`ticked`), else the next message,
    /// waited for until the tick or the journal's next sync. Returns the core's actions, not yet performed.
    func turn(_ core: inout CoordinatorCore, nextTick: inout UInt64, tickMs: UInt64,
              log: (String) -> Void) throws -> (actions: [CoordinatorAction], ticked: Bool) {
        let now = MonotonicClock.nowMs
        try journal?.syncIfDue(now: now)
        if now >= nextTick {
            nextTick = now + tickMs
            return (core.handle(.tick, now: now), true)
        }
        guard let incoming = try socket.receiveHWP(timeoutMs: Self.wait(now: now, until: min(nextTick, journal?.deadline ?? nextTick))) else {
            return ([], false)
        }
        switch incoming {
        case .message(let peer, let message):
            if zap != nil, case .hello(let hello) = message {
                log("worker \(hello.name) authenticated with the CURVE key named '\(socket.lastUserID ?? "?")'")
            }
            return (core.handle(.message(peer: peer, message), now: MonotonicClock.nowMs), false)
        case .malformed(let peer, let error): return (core.handle(.malformed(peer: peer, error), now: MonotonicClock.nowMs), false)
        }
    }

    /// Milliseconds from `now` to the next tick or journal sync (0 if already due).
    static func wait(now: UInt64, until wake: UInt64) -> Int { Int(wake > now ? wake - now : 0) }

    public enum StopReason { case phase([LayerEstimate]), finished(CoordinatorOutcome) }

    /// Sends the core's messages (DONTWAIT: a full or departed peer must not stall the loop;
    /// leases cover the loss) and reports a phase end or finish. Records go to the journal
    /// first; a phase end or finish syncs it before anything is sent (the workers may leave on
    /// the DISCONNECT, and the caller writes outputs next).
    @discardableResult
    public func perform(_ actions: [CoordinatorAction], log: (String) -> Void) throws(JournalIOError) -> StopReason? {
        var stop: StopReason?
        if let journal {
            for case .persist(let record) in actions { try journal.append(record, now: MonotonicClock.nowMs) }
            if actions.contains(where: { if case .finish = $0 { true } else if case .phaseComplete = $0 { true } else { false } }) {
                try journal.sync()
            }
        }
        for action in actions {
            switch action {
            case .persist: break
            case .send(let peer, let message):
                do { _ = try socket.send(message, to: peer, dontWait: true) } catch {}
            case .disconnect: break
            case .log(let line): log(line)
            case .phaseComplete(let estimates): stop = .phase(estimates)
            case .finish(let outcome): stop = .finished(outcome)
            }
        }
        return stop
    }

    /// Keeps serving briefly so the DISCONNECTs reach the workers, then closes.
    func flush(_ core: inout CoordinatorCore, log: (String) -> Void) {
        let until = MonotonicClock.nowMs + 300
        while MonotonicClock.nowMs < until {
            guard let incoming = try? socket.receiveHWP(timeoutMs: 50) else { continue }
            if case .message(let peer, let message) = incoming {
                _ = try? perform(core.handle(.message(peer: peer, message), now: MonotonicClock.nowMs), log: log)
            }
        }
        try? socket.setLinger(milliseconds: 500)
        socket.close()
        zap?.stop()
        closed = true
    }
}
