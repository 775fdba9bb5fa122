import HutchWire

/// The coordinator's ZeroMQ shell: a bound ROUTER and a loop that moves bytes between it and a
/// `CoordinatorCore`. All decisions are the core's.
public final class CoordinatorServer {
    let context: ZMQContext
    let socket: ZMQSocket
    /// The endpoint actually bound (with the port the system chose for `:*`).
    public let endpoint: String

    public init(bind: String, heartbeatMs: UInt32 = WireLimits.defaultHeartbeatMs,
                liveness: UInt32 = WireLimits.defaultLiveness) throws(ZMQError) {
        context = try ZMQContext()
        socket = try ZMQSocket.coordinatorRouter(context, bind: bind, heartbeatMs: heartbeatMs, liveness: liveness)
        endpoint = try socket.lastEndpoint
    }

    /// Runs until the core finishes; `log` gets the core's log lines, `progress` is called
    /// after every event (cheap: the caller throttles).
    public func run(_ core: inout CoordinatorCore, log: (String) -> Void,
                    progress: (CoordinatorCore) -> Void = { _ in }) throws -> CoordinatorOutcome {
        let tickMs = UInt64(max(20, min(200, Int(core.config.heartbeatMs) / 5)))
        var nextTick = MonotonicClock.nowMs
        var outcome: CoordinatorOutcome?
        var flushUntil: UInt64?
        while true {
            let now = MonotonicClock.nowMs
            if let flushUntil, now >= flushUntil { break }
            var actions: [CoordinatorAction] = []
            if now >= nextTick {
                actions += core.handle(.tick, now: now)
                nextTick = now + tickMs
            } else if let incoming = try socket.receiveHWP(timeoutMs: Int(nextTick - now)) {
                switch incoming {
                case .message(let peer, let message): actions += core.handle(.message(peer: peer, message), now: MonotonicClock.nowMs)
                case .malformed(let peer, let error): actions += core.handle(.malformed(peer: peer, error), now: MonotonicClock.nowMs)
                }
            }
            for action in actions {
                switch action {
                case .send(let peer, let message):
                    // DONTWAIT: a full or departed peer must not stall the loop; leases cover the loss
                    do { _ = try socket.send(message, to: peer, dontWait: true) } catch {}
                case .disconnect: break
                case .log(let line): log(line)
                case .finish(let result):
                    outcome = result
                    // keep serving briefly so the DISCONNECTs reach the workers
                    flushUntil = MonotonicClock.nowMs + 300
                }
            }
            if !actions.isEmpty { progress(core) }
        }
        try? socket.setLinger(milliseconds: 500)
        socket.close()
        return outcome ?? .failed("the coordinator stopped without a result")
    }
}
