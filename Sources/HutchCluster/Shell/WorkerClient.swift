import Foundation
import HutchClusterCore
import HutchWire

/// The worker's ZeroMQ shell: a DEALER to the coordinator, a compute thread, and a loop that
/// moves messages and finished computations into the `WorkerCore`.
public final class WorkerClient: @unchecked Sendable {
    /// Turns a task into its outcome; runs on the compute thread only (it may cache freely).
    public typealias Compute = @Sendable (ComputeRequest) -> ComputeOutcome

    let endpoint: String
    let curve: CurveClientConfig?
    let compute: Compute
    let lock = NSLock()
    var pending: [ComputeRequest] = []
    var finished: [(ComputeRequest, ComputeOutcome)] = []
    var stopping = false
    let wake = NSCondition()
    /// Asked on every tick: true ends the worker as if the job were complete.
    public var orphaned: () -> Bool = { false }
    /// Without a session for this long, the worker says once why (`LinkObservation.reason`).
    public var hintAfterMs: UInt64 = 10_000

    /// With `curve`, the DEALER is a CURVE client of the coordinator's key.
    public init(connect endpoint: String, curve: CurveClientConfig? = nil, compute: @escaping Compute) {
        self.endpoint = endpoint
        self.curve = curve
        self.compute = compute
    }

    /// Runs until the coordinator says the job is complete (returns) or sends this worker away
    /// (throws). Reconnects on silence, as the core asks.
    public func run(_ core: inout WorkerCore, log: (String) -> Void) throws {
        let context = try ZMQContext()
        var (socket, monitor) = try connect(context, core, seen: LinkObservation())
        let thread = Thread { [self] in computeLoop() }
        thread.start()
        defer {
            wake.lock(); stopping = true; wake.signal(); wake.unlock()
        }
        var nextTick = MonotonicClock.nowMs
        // a refused worker hears nothing at all: after hintAfterMs without a session, say why once
        var sessionLostAt: UInt64? = nextTick
        var hinted = false
        while true {
            let now = MonotonicClock.nowMs
            var actions: [WorkerAction] = []
            if now >= nextTick {
                actions += core.handle(.tick, now: now)
                nextTick = now + 50
                if orphaned() { throw WorkerStopped(description: "the process that started this worker is gone") }
                monitor.drain()
                if core.welcomed {
                    (sessionLostAt, hinted) = (nil, false)
                    monitor.seen = LinkObservation()
                } else if let lost = sessionLostAt {
                    if !hinted && now - lost >= hintAfterMs {
                        hinted = true
                        log("no WELCOME from \(endpoint) for \((now - lost) / 1000) s; still trying: "
                            + monitor.seen.reason(endpoint: endpoint, curve: curve != nil))
                    }
                } else {
                    sessionLostAt = now
                }
            } else if let incoming = try socket.receiveHWP(timeoutMs: Int(min(20, nextTick - now))) {
                switch incoming {
                case .message(_, let message): actions += core.handle(.message(message), now: MonotonicClock.nowMs)
                case .malformed(_, let error): actions += core.handle(.malformed(error), now: MonotonicClock.nowMs)
                }
            }
            lock.lock()
            let done = finished
            finished.removeAll()
            lock.unlock()
            for (request, outcome) in done {
                actions += core.handle(.computed(taskID: request.taskID, leaseID: request.leaseID, outcome), now: MonotonicClock.nowMs)
            }
            for action in actions {
                switch action {
                case .send(var message):
                    // every RESULT carries this process's peak memory so far (run.json)
                    if case .result(var r) = message { r.peakResidentBytes = PeakResidentMemory.bytes(); message = .result(r) }
                    do { _ = try socket.send(message, dontWait: true) } catch { log("send failed: \(error)") }
                case .compute(let request):
                    wake.lock(); pending.append(request); wake.signal(); wake.unlock()
                case .reconnect:
                    monitor.drain()
                    let seen = monitor.seen
                    socket.close()
                    monitor.close()
                    (socket, monitor) = try connect(context, core, seen: seen)
                case .log(let line): log(line)
                case .exit(let why):
                    socket.close()
                    monitor.close()
                    if let why { throw WorkerStopped(description: why) }
                    return
                }
            }
        }
    }

    /// A new DEALER to the coordinator with a monitor that goes on from `seen`.
    func connect(_ context: ZMQContext, _ core: WorkerCore, seen: LinkObservation) throws(ZMQError) -> (ZMQSocket, LinkMonitor) {
        let socket = try ZMQSocket.unconnectedWorkerDealer(context, instance: core.config.instance, curve: curve)
        let monitor = try LinkMonitor(context, watching: socket, seen: seen)
        try socket.connect(endpoint)
        return (socket, monitor)
    }

    func computeLoop() {
        while true {
            wake.lock()
            while pending.isEmpty && !stopping { wake.wait() }
            if stopping { wake.unlock(); return }
            let request = pending.removeFirst()
            wake.unlock()
            let outcome = compute(request)
            lock.lock(); finished.append((request, outcome)); lock.unlock()
        }
    }
}

/// The coordinator sent this worker away (incompatible, rejected).
public struct WorkerStopped: Error, CustomStringConvertible {
    public let description: String
}
