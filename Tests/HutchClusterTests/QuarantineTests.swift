import HutchClusterCore
import HutchSensitivity
import HutchWire
import XCTest

/// Strikes count per worker process across sessions; at maxStrikes the worker is disconnected and
/// quarantined (instance and name refused for the rest of the job); the session table is bounded.
final class QuarantineTests: XCTestCase {
    var core: CoordinatorCore!
    var runner: TaskRunner!

    override func setUpWithError() throws {
        let f = try SimulationFixtures.shared().mlpQuantize
        runner = f.runner
        let spec = SensitivityWorkSpec(job: f.runner.job, source: ModelSource(modelPath: "m"), probesPerCall: f.options.probesPerCall)
        var config = CoordinatorConfig(epoch: 1)
        config.maxSessions = 3
        core = CoordinatorCore(config: config, spec: spec, options: f.options, workers: 2, tasksPerWorker: 4)
    }

    func hello(_ peer: [UInt8], instance: UInt64, name: String, credit: UInt32 = 2, at now: UInt64 = 0) -> [CoordinatorAction] {
        core.handle(.message(peer: peer, .hello(Hello(capabilities: [.sensitivity], instance: instance, name: name, threads: 1, credit: credit))), now: now)
    }

    static func sent(_ a: [CoordinatorAction], to peer: [UInt8]) -> [WireMessage] {
        a.compactMap { if case .send(peer, let m) = $0 { m } else { nil } }
    }

    static func tasks(_ a: [CoordinatorAction], to peer: [UInt8]) -> [TaskAssignment] {
        sent(a, to: peer).compactMap { if case .task(let t) = $0 { t } else { nil } }
    }

    static func logs(_ a: [CoordinatorAction]) -> [String] { a.compactMap { if case .log(let l) = $0 { l } else { nil } } }

    /// A RESULT for `t` with one value missing: fails validation.
    func shortResult(_ t: TaskAssignment) throws -> WireMessage {
        let (task, _) = try SensitivityBodies.decodeTask(t.body)
        let r = try runner.run(task)
        return .result(WireTaskResult(taskID: t.taskID, leaseID: t.leaseID, kind: .sensitivity,
                                      body: SensitivityBodies.resultBody(task, exampleCounts: r.exampleCounts), values: Array(r.values.dropLast())))
    }

    func testThreeInvalidResultsQuarantineInstanceAndNameForTheJob() throws {
        let bad: [UInt8] = [1]
        // on probation (no task completed yet) a session holds one lease at a time
        var leased = Self.tasks(hello(bad, instance: 9, name: "bad"), to: bad)
        XCTAssertEqual(leased.count, 1)
        // two strikes, a new session of the same process, a third strike: counts survive HELLO
        leased = Self.tasks(core.handle(.message(peer: bad, try shortResult(leased[0])), now: 1), to: bad)
        XCTAssertEqual(leased.count, 1, "the task comes back to the only worker")
        leased = Self.tasks(core.handle(.message(peer: bad, try shortResult(leased[0])), now: 1), to: bad)
        XCTAssertEqual(core.workerCount, 1)
        // the same process says HELLO again: it keeps its lease, and its strikes; the kept lease's
        // TASK comes again (wire.md 5.1), and no new one (still on probation with its lease)
        guard let last = leased.first else { return XCTFail("no task leased after the second strike") }
        XCTAssertEqual(Self.tasks(hello(bad, instance: 9, name: "bad", credit: 1, at: 2), to: bad), [last], "only the kept lease, sent again")
        let third = core.handle(.message(peer: bad, try shortResult(last)), now: 3)
        let replies = Self.sent(third, to: bad)
        XCTAssertTrue(replies.contains { if case .error(let e) = $0 { e.code == .invalidResult } else { false } })
        guard case .disconnect(let d)? = replies.last else { return XCTFail("no DISCONNECT: \(replies)") }
        XCTAssertEqual(d.reason, .rejected)
        XCTAssertTrue(d.message.contains("quarantined"), d.message)
        XCTAssertTrue(third.contains { if case .disconnect(bad) = $0 { true } else { false } })
        XCTAssertEqual(Self.logs(third).filter { $0.contains("quarantined after 3 invalid results") }.count, 1, "\(Self.logs(third))")
        XCTAssertEqual(core.workerCount, 0)
        XCTAssertEqual(core.quarantine.instances, [9])
        XCTAssertEqual(core.quarantine.names, ["bad"])

        // refused again: same peer, another routing id, another instance under the same name;
        // one log line per instance, a DISCONNECT(rejected) every time, never a WELCOME
        for (peer, instance, logged) in [([1], 9, true), ([2], 9, false), ([1], 9, false), ([3], 10, true)] as [([UInt8], UInt64, Bool)] {
            let a = hello(peer, instance: instance, name: "bad", at: 10)
            let m = Self.sent(a, to: peer)
            XCTAssertEqual(m.count, 1, "\(m)")
            guard case .disconnect(let d)? = m.first else { return XCTFail("\(m)") }
            XCTAssertEqual(d.reason, .rejected)
            XCTAssertTrue(d.message.contains("quarantined"), d.message)
            XCTAssertEqual(Self.logs(a).contains { $0.contains("refused HELLO from quarantined worker bad") }, logged, "\(Self.logs(a))")
        }
        XCTAssertEqual(core.workerCount, 0)
        // a different process under another name is welcome and gets the tasks back
        let good: [UInt8] = [4]
        let welcome = hello(good, instance: 11, name: "good", at: 20)
        XCTAssertTrue(Self.sent(welcome, to: good).contains { if case .welcome = $0 { true } else { false } })
        XCTAssertEqual(Self.tasks(welcome, to: good).count, 1, "one lease on probation")

        // a well-behaved worker obeys: it exits with the coordinator's reason
        var worker = WorkerCore(config: WorkerConfig(name: "bad", instance: 9))
        _ = worker.handle(.tick, now: 0)
        let exit = worker.handle(.message(.disconnect(d)), now: 1).compactMap { if case .exit(let why) = $0 { why } else { nil } }
        XCTAssertEqual(exit.count, 1)
        XCTAssertTrue(exit.first?.contains("quarantined") ?? false, "\(exit)")
    }

    /// A RESULT carrying NaN never decodes: malformed messages from a session are strikes too.
    func testMalformedMessagesFromASessionAreStrikes() throws {
        let peer: [UInt8] = [7]
        _ = hello(peer, instance: 70, name: "nan")
        var errors = 0
        for k in 0..<3 as Range<UInt64> {
            let a = core.handle(.malformed(peer: peer, .nonFinite(.result, field: "values", index: 0)), now: 1 + k)
            errors += Self.sent(a, to: peer).filter { if case .error(let e) = $0 { e.code == .malformed } else { false } }.count
        }
        XCTAssertEqual(errors, 1, "at most one ERROR per heartbeat interval")
        XCTAssertEqual(core.quarantine.instances, [70])
        XCTAssertEqual(core.workerCount, 0)
        // without a session: only an ERROR, no strike (no process to blame)
        let stranger: [UInt8] = [8]
        let a = core.handle(.malformed(peer: stranger, .nonFinite(.result, field: "values", index: 0)), now: 5)
        XCTAssertEqual(Self.sent(a, to: stranger).count, 1)
        XCTAssertEqual(core.quarantine.instances, [70])
    }

    /// maxSessions = 3: a fourth HELLO is refused with ERROR while the three are live, and evicts
    /// the longest-silent one once it missed two heartbeats; the table never exceeds the limit.
    func testSessionTableIsBounded() throws {
        for i in 0..<3 as Range<UInt8> { _ = hello([i + 1], instance: UInt64(i + 1), name: "s\(i)", at: UInt64(i)) }
        XCTAssertEqual(core.workerCount, 3)
        let refused = hello([9], instance: 99, name: "late", at: 500)
        guard case .error(let e)? = Self.sent(refused, to: [9]).first else { return XCTFail("\(refused)") }
        XCTAssertEqual(e.code, .unexpected)
        XCTAssertTrue(e.message.contains("limit of 3"), e.message)
        XCTAssertEqual(core.workerCount, 3)
        // a known peer's new HELLO is never refused
        XCTAssertTrue(Self.sent(hello([2], instance: 2, name: "s1", at: 600), to: [2]).contains { if case .welcome = $0 { true } else { false } })
        // peers 1 and 3 silent since 0 and 2, peer 2 since 600: at 2500 (two intervals) peer 1 is evicted
        XCTAssertNil(Self.sent(hello([9], instance: 99, name: "late", at: 1900), to: [9]).first { if case .welcome = $0 { true } else { false } })
        let later = hello([9], instance: 99, name: "late", at: 2500)
        XCTAssertTrue(Self.sent(later, to: [9]).contains { if case .welcome = $0 { true } else { false } })
        guard case .disconnect(let d)? = Self.sent(later, to: [1]).first else { return XCTFail("peer 1 not evicted: \(later)") }
        XCTAssertEqual(d.reason, .expired, "an evicted worker says HELLO again")
        XCTAssertEqual(core.workerCount, 3)
        // a HELLO flood from many peers never grows the table
        for i in 0..<200 as Range<UInt64> {
            _ = hello([0x40, UInt8(i % 200)], instance: 1000 + i, name: "flood", at: 2600 + i * 5)
            XCTAssertLessThanOrEqual(core.workerCount, 3)
        }
    }
}
