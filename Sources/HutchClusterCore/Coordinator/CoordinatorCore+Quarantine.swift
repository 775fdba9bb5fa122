import HutchWire

/// Workers that sent invalid results, counted by process (instance) so that a new HELLO does not
/// wipe the slate, and the workers quarantined for the rest of the job. Bounded: a peer can only
/// add entries by holding a session and sending bad messages, and past `capacity` entries the
/// oldest counts of workers not (yet) quarantined are forgotten.
public struct Quarantine: Sendable {
    public static let capacity = 65_536
    var strikes: [UInt64: Int] = [:]
    public internal(set) var instances: Set<UInt64> = []
    public internal(set) var names: Set<String> = []
    /// Instances whose refused HELLO was logged (one line per instance, not per HELLO).
    var logged: Set<UInt64> = []
    /// When a HELLO refused for a full session table was last logged.
    var lastFullLog: UInt64?

    mutating func strike(_ instance: UInt64) -> Int {
        if strikes.count >= Self.capacity { strikes = strikes.filter { instances.contains($0.key) } }
        strikes[instance, default: 0] += 1
        return strikes[instance] ?? 0
    }

    mutating func add(instance: UInt64, name: String) {
        if instances.count < Self.capacity { instances.insert(instance) }
        if names.count < Self.capacity { names.insert(name) }
    }

    func refuses(instance: UInt64, name: String) -> Bool { instances.contains(instance) || names.contains(name) }
}

/// Strikes, quarantine and the session table's bound.
extension CoordinatorCore {
    /// Whether a HELLO may open (or renew) a session: quarantined workers are refused with
    /// DISCONNECT(rejected), which a worker obeys by exiting with the message; a HELLO that would
    /// grow a full session table evicts the longest-silent session that missed two heartbeats, or
    /// is refused with ERROR (the worker repeats its HELLO later, as for a lost one).
    mutating func admit(_ peer: [UInt8], _ hello: Hello, _ now: UInt64, _ out: inout [CoordinatorAction]) -> Bool {
        if quarantine.refuses(instance: hello.instance, name: hello.name) {
            if peers[peer] != nil { drop(peer, reason: "was replaced by a quarantined worker's HELLO", &out) }
            if !quarantine.logged.contains(hello.instance), quarantine.logged.count < Quarantine.capacity {
                quarantine.logged.insert(hello.instance)
                out.append(.log("refused HELLO from quarantined worker \(hello.name) (instance \(Self.hex(hello.instance)))"))
            }
            out.append(.send(peer: peer, .disconnect(Disconnect(reason: .rejected, message:
                "worker \(hello.name) is quarantined for the rest of this job: it sent invalid results (wrong shape, task or values); check its build and host"))))
            return false
        }
        let known = peers[peer] != nil || peers.values.contains { $0.instance == hello.instance }
        guard !known, peers.count >= config.maxSessions else { return true }
        // a live worker speaks at least once per heartbeat interval: two missed ones mark a stale session
        let silent = peers.filter { now - min(now, $0.value.lastHeard) > 2 * UInt64($0.value.heartbeatMs) }
        if let stalest = silent.min(by: { a, b in
            a.value.lastHeard != b.value.lastHeard ? a.value.lastHeard < b.value.lastHeard : Self.order(a.key, b.key)
        })?.key {
            out.append(.send(peer: stalest, .disconnect(Disconnect(reason: .expired, message:
                "session evicted: the coordinator is at its limit of \(config.maxSessions) sessions and this one was silent"))))
            drop(stalest, reason: "evicted (session table full, silent longest)", &out)
            return true
        }
        if quarantine.lastFullLog.map({ now - min(now, $0) >= UInt64(config.heartbeatMs) }) ?? true {
            quarantine.lastFullLog = now
            out.append(.log("refused HELLO from \(hello.name): all \(config.maxSessions) sessions are live (raise --max-sessions?)"))
        }
        out.append(.send(peer: peer, .error(ErrorReply(code: .unexpected, command: WireCommand.hello.rawValue, message:
            "the coordinator holds its limit of \(config.maxSessions) live sessions; HELLO again later"))))
        return false
    }

    /// A message that failed to decode. From a peer with a session it is a strike (a worker
    /// built from this codebase never sends one; a NaN RESULT ends here), answered with at most one
    /// ERROR per heartbeat interval; from anyone else just the ERROR (wire.md 6).
    mutating func malformed(_ peer: [UInt8], _ error: WireError, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        if case .badSignature = error { return }   // not HWP: drop silently
        guard var p = peers[peer] else {
            out.append(.send(peer: peer, .error(ErrorReply(answering: error))))
            return
        }
        p.lastHeard = now
        let quiet = p.lastError.map { now - min(now, $0) < UInt64(p.heartbeatMs) } ?? false
        if !quiet { p.lastError = now }
        peers[peer] = p
        if !quiet { out.append(.send(peer: peer, .error(ErrorReply(answering: error)))) }
        strike(peer, nil, "malformed message: \(error)", now, &out, reply: false)
    }

    /// One strike against the sender of an invalid result (`reply`: answer ERROR `code`); the
    /// task, if the peer held its lease, goes back to the queue. At `maxStrikes` the worker is
    /// disconnected (DISCONNECT rejected) and quarantined.
    mutating func strike(_ peer: [UInt8], _ taskID: UInt64?, _ why: String, _ now: UInt64, _ out: inout [CoordinatorAction],
                         code: WireErrorCode = .invalidResult, reply: Bool = true) {
        if reply {
            send(peer, .error(ErrorReply(code: code, command: WireCommand.result.rawValue, message: String(why.prefix(1000)))), now, &out)
        }
        out.append(.log("invalid result from \(peerName(peer)): \(why)"))
        if let taskID, tasks[taskID]?.lease?.peer == peer { endLease(taskID) }
        guard let p = peers[peer] else { return }
        penalize(p.instance, p.name, now, &out)
    }

    /// One strike against a worker process, whether or not it has a session now; at maxStrikes
    /// it is quarantined and its session (if any) ends with DISCONNECT(rejected).
    mutating func penalize(_ instance: UInt64, _ name: String, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        let count = quarantine.strike(instance)
        let sessions = peers.filter { $0.value.instance == instance }.keys.sorted(by: Self.order)
        for key in sessions { peers[key]?.strikes = count }
        guard count >= config.maxStrikes else { return }
        quarantine.add(instance: instance, name: name)
        out.append(.log("worker \(name) (instance \(Self.hex(instance))) quarantined after \(count) invalid results"))
        for key in sessions {
            send(key, .disconnect(Disconnect(reason: .rejected, message:
                "quarantined after \(count) invalid results: worker \(name) is refused for the rest of this job")), now, &out)
            drop(key, reason: "sent \(count) invalid results", &out)
        }
    }

    static func hex(_ v: UInt64) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
