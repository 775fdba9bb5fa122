import HutchClusterCore
import HutchSensitivity
import HutchWire
import XCTest

extension CoordinatorCoreTests {
    /// Measured-loss tasks cut three ways (whole cells on one worker; cells split into batches
    /// for three workers, and into single batches): the measured objective is the
    /// one-process measurement's bits every time, and the traces are untouched.
    func testMeasuredTasksGiveTheOneProcessBitsForAnyCut() throws {
        let s = try setup("mlp", hutchinson: false)
        let bits = [2, 4, 8]
        let reference = try MeasuredLossIncrease(runner: s.runner, bits: bits).run()
        var taskCounts: Set<Int> = []
        for (workers, tasksPerWorker) in [(1, 1), (3, 4), (2, 20)] {
            var sim = Simulation(inputs: s.inputs, options: s.options, workers: workers, tasksPerWorker: tasksPerWorker, measuredBits: bits)
            for w in 0..<workers { sim.addWorker(computeMs: 10 + 7 * UInt64(w)) }
            sim.run()
            assertMatches(sim, s)
            let got = try XCTUnwrap(sim.coordinator.measuredCells?.result(examples: s.runner.job.samples), "\(workers) workers")
            XCTAssertEqual(measuredBits(got), measuredBits(reference), "\(workers) workers, \(tasksPerWorker) tasks per worker")
            taskCounts.insert(sim.coordinator.tasksDone)
        }
        XCTAssertEqual(taskCounts.count, 3, "each cut has its own number of tasks: \(taskCounts)")
    }

    /// A measured RESULT with the wrong echo, value count or example counts is struck and not
    /// journaled; the journal of the good ones replays into a fresh coordinator with the same cells.
    func testMeasuredResultsAreCheckedPersistedAndReplayed() throws {
        let s = try setup("mlp", hutchinson: false)
        let spec = SensitivityWorkSpec(job: s.runner.job, source: ModelSource(modelPath: "m"), probesPerCall: 2)
        func core() -> CoordinatorCore {
            CoordinatorCore(config: CoordinatorConfig(epoch: 1), spec: spec, options: s.options, workers: 1, measuredBits: [3, 8])
        }
        var live = core()
        var now: UInt64 = 0
        var journal: [JournalRecord] = []
        func send(_ peer: [UInt8], _ message: WireMessage) -> [CoordinatorAction] {
            now += 1
            let actions = live.handle(.message(peer: peer, message), now: now)
            journal += actions.compactMap { if case .persist(let record) = $0 { record } else { nil } }
            return actions
        }
        func answer(_ t: TaskAssignment) throws -> WireTaskResult {
            if t.body.first == MeasuredBodies.format {
                let (task, _) = try MeasuredBodies.decodeTask(t.body)
                return WireTaskResult(taskID: t.taskID, leaseID: t.leaseID, kind: .sensitivity,
                                      body: MeasuredBodies.resultBody(task, exampleCounts: task.batches.map { s.runner.job.examples(ofBatch: $0).count }),
                                      values: try s.runner.measuredLossSums(task))
            }
            let (task, _) = try SensitivityBodies.decodeTask(t.body)
            let result = try s.runner.run(task)
            return WireTaskResult(taskID: t.taskID, leaseID: t.leaseID, kind: .sensitivity,
                                  body: SensitivityBodies.resultBody(task, exampleCounts: result.exampleCounts), values: result.values)
        }
        let bad: [UInt8] = [4], good: [UInt8] = [5]
        let first = send(bad, .hello(Hello(capabilities: [.sensitivity], instance: 1, name: "bad", threads: 1, credit: 1)))
        let t = try XCTUnwrap(first.compactMap { if case .send(_, .task(let t)) = $0 { t } else { nil } }.first)
        XCTAssertEqual(t.body.first, MeasuredBodies.format, "measured tasks are queued at the start")
        let honest = try answer(t)
        var wrongEcho = honest, short = honest, wrongCounts = honest
        wrongEcho.body[1] ^= 1
        short.values.removeLast()
        let (task, _) = try MeasuredBodies.decodeResult(honest.body)
        wrongCounts.body = MeasuredBodies.resultBody(task, exampleCounts: task.batches.map { s.runner.job.examples(ofBatch: $0).count + 1 })
        for (i, r) in [wrongEcho, short, wrongCounts].enumerated() {
            let actions = send(bad, .result(r))
            XCTAssertTrue(actions.contains { if case .send(_, .error(let e)) = $0 { e.code == .invalidResult } else { false } }, "bad result \(i) is struck")
            XCTAssertFalse(actions.contains { if case .persist = $0 { true } else { false } }, "bad result \(i) is not journaled")
        }
        // an honest worker does the whole job
        var pending = send(good, .hello(Hello(capabilities: [.sensitivity], instance: 2, name: "good", threads: 1, credit: 64)))
        while !live.finished, let t = pending.compactMap({ if case .send(_, .task(let t)) = $0 { t } else { nil } }).first {
            pending.removeAll { if case .send(_, .task(let other)) = $0 { other.taskID == t.taskID } else { false } }
            pending += send(good, .result(try answer(t)))
        }
        let cells = try XCTUnwrap(live.measuredCells)
        XCTAssertTrue(live.finished && cells.isComplete)
        var replayed = core()
        for record in journal { _ = try replayed.replay(record) }
        XCTAssertTrue(replayed.finished)
        XCTAssertEqual(replayed.measuredCells, cells)
        let reference = try MeasuredLossIncrease(runner: s.runner, bits: [3, 8]).run()
        XCTAssertEqual(measuredBits(try XCTUnwrap(cells.result(examples: s.runner.job.samples))), measuredBits(reference))
    }

    /// Measured bodies round-trip, and bodies that do not follow format 4 are refused.
    func testMeasuredBodiesRoundTripAndRefuseMalformedOnes() throws {
        for task in [MeasuredTask(layer: nil, bits: 0, batches: 0..<3), MeasuredTask(layer: 5, bits: 16, batches: 7..<8)] {
            let (decoded, spec) = try MeasuredBodies.decodeTask(MeasuredBodies.taskBody(task, spec: [1, 2, 3]))
            XCTAssertEqual(decoded, task)
            XCTAssertEqual(spec, [1, 2, 3])
            let (echo, counts) = try MeasuredBodies.decodeResult(MeasuredBodies.resultBody(task, exampleCounts: [4, 4, 2]))
            XCTAssertEqual(echo, task)
            XCTAssertEqual(counts, [4, 4, 2])
        }
        let body = MeasuredBodies.taskBody(MeasuredTask(layer: 1, bits: 4, batches: 0..<2), spec: [9])
        var zeroBits = body, reversed = body, badFormat = body
        zeroBits[5] = 0                      // a layer at 0 bits
        reversed[9] = 5                      // batches 5..<2
        badFormat[0] = 1
        for (name, bad) in [("0 bits", zeroBits), ("reversed batches", reversed), ("format", badFormat),
                            ("truncated", Array(body.dropLast())), ("empty", [])] {
            XCTAssertThrowsError(try MeasuredBodies.decodeTask(bad), name)
        }
    }
}
