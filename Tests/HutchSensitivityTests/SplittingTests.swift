import HutchModel
import HutchSensitivity
import XCTest

/// The same job cut 1, 3 and 7 ways (and aggregated in a shuffled order) gives identical bits.
final class SplittingTests: XCTestCase {
    /// Cuts of the job's (batch, probe, group) box into `pieces` tasks with uneven boundaries.
    func cuts(_ job: SensitivityJob, probes: Int, pieces: Int) -> [SensitivityTask] {
        let B = job.batchCount, G = job.layerGroups.count
        switch pieces {
        case 1:
            return [SensitivityTask(batches: 0..<B, probes: job.method == .exact ? 0..<0 : 0..<probes, groups: 0..<G)]
        case 3:
            if job.method == .exact {
                // by batches
                return [0..<1, 1..<(B - 1), (B - 1)..<B].map { SensitivityTask(batches: $0, probes: 0..<0, groups: 0..<G) }
            }
            // by probes, one of them also by batches
            return [SensitivityTask(batches: 0..<B, probes: 0..<2, groups: 0..<G),
                    SensitivityTask(batches: 0..<1, probes: 2..<probes, groups: 0..<G),
                    SensitivityTask(batches: 1..<B, probes: 2..<probes, groups: 0..<G)]
        default:
            var tasks: [SensitivityTask] = []
            if job.method == .exact {
                // every batch alone, groups split unevenly
                precondition(G >= 3)
                for b in 0..<B { tasks.append(SensitivityTask(batches: b..<(b + 1), probes: 0..<0, groups: 0..<(G - 2))) }
                for r in [0..<1, 1..<(B - 1), (B - 1)..<B] {
                    tasks.append(SensitivityTask(batches: r, probes: 0..<0, groups: (G - 2)..<G))
                }
                return tasks
            }
            let probeCuts = [0..<1, 1..<4, 4..<5, 5..<probes]
            for (i, p) in probeCuts.enumerated() {
                if i % 2 == 0 {
                    tasks.append(SensitivityTask(batches: 0..<B, probes: p, groups: 0..<G))
                } else {
                    tasks.append(SensitivityTask(batches: 0..<1, probes: p, groups: 0..<G))
                    tasks.append(SensitivityTask(batches: 1..<B, probes: p, groups: 0..<G))
                }
            }
            if G > 1 {   // split the last one by groups as well
                let last = tasks.removeLast()
                tasks.append(SensitivityTask(batches: last.batches, probes: last.probes, groups: 0..<1))
                tasks.append(SensitivityTask(batches: last.batches, probes: last.probes, groups: 1..<G))
            } else {
                let last = tasks.removeLast()
                tasks.append(SensitivityTask(batches: last.batches, probes: last.probes.lowerBound..<(last.probes.lowerBound + 1), groups: 0..<G))
                tasks.append(SensitivityTask(batches: last.batches, probes: (last.probes.lowerBound + 1)..<last.probes.upperBound, groups: 0..<G))
            }
            return tasks
        }
    }

    /// Per layer: the per-probe values' bits (Hutchinson) or the trace's bits (exact).
    func bits(_ job: SensitivityJob, _ runner: TaskRunner, _ tasks: [SensitivityTask], probes: Int) throws -> [[UInt64]] {
        var aggregator = TraceAggregator(job: job)
        var results = try tasks.map { try runner.run($0) }
        results.reverse()   // order of arrival must not matter
        results.swapAt(0, results.count / 2)
        for r in results { try aggregator.add(r) }
        return try (0..<job.layerCount).map { l in
            let e = try XCTUnwrap(aggregator.estimate(layer: l))
            if job.method == .exact { return [e.trace.bitPattern] }
            XCTAssertEqual(e.probes, probes)
            return e.probeValues.map(\.bitPattern) + [e.trace.bitPattern, (e.standardError ?? 0).bitPattern]
        }
    }

    func checkInvariance(_ name: String, method: TraceMethod, mode: ProbeMode, batchSize: Int, probes: Int) throws {
        let c = try Fixtures.load(name)
        let layers = c.graph.quantizableLayers.count
        let job = try SensitivityJob(method: method, mode: mode, seed: 9, samples: c.dataset.count, batchSize: batchSize,
                                     layerCount: layers)
        var runner = try TaskRunner(graph: c.graph, dataset: c.dataset, job: job, probesPerCall: 3)
        let whole = try bits(job, runner, cuts(job, probes: probes, pieces: 1), probes: probes)
        XCTAssertEqual(cuts(job, probes: probes, pieces: 3).count, 3)
        XCTAssertEqual(cuts(job, probes: probes, pieces: 7).count, 7)
        XCTAssertEqual(try bits(job, runner, cuts(job, probes: probes, pieces: 3), probes: probes), whole, "\(name) 3 ways")
        XCTAssertEqual(try bits(job, runner, cuts(job, probes: probes, pieces: 7), probes: probes), whole, "\(name) 7 ways")
        // how many probes share one HVP call changes only speed
        runner.probesPerCall = 1
        XCTAssertEqual(try bits(job, runner, cuts(job, probes: probes, pieces: 7), probes: probes), whole, "\(name) one probe per call")
    }

    func testJointHutchinsonOnResNetSmall() throws {
        try checkInvariance("resnet_small", method: .hutchinson, mode: .joint, batchSize: 3, probes: 7)
    }
    func testLayerHutchinsonOnDepthwise() throws {
        try checkInvariance("depthwise", method: .hutchinson, mode: .layer, batchSize: 4, probes: 7)
    }
    func testJointHutchinsonOnMLP() throws {
        try checkInvariance("mlp", method: .hutchinson, mode: .joint, batchSize: 5, probes: 7)
    }
    /// Sampled GGN: samples cut anywhere, one or three per reverse pass, give the same bits.
    func testGaussNewtonOnResNetSmall() throws {
        try checkInvariance("resnet_small", method: .ggn, mode: .joint, batchSize: 3, probes: 7)
    }
    func testGaussNewtonOnTanhMLP() throws {
        try checkInvariance("tanh_mlp", method: .ggn, mode: .joint, batchSize: 5, probes: 7)
    }
    func testExactOnResNetSmall() throws {
        try checkInvariance("resnet_small", method: .exact, mode: .joint, batchSize: 2, probes: 0)
    }

    func testDuplicatedResultsAreAcceptedAndConflictingOnesRefused() throws {
        let c = try Fixtures.load("mlp")
        let job = try SensitivityJob(method: .hutchinson, seed: 1, samples: 12, batchSize: 5, layerCount: 3)
        let runner = try TaskRunner(graph: c.graph, dataset: c.dataset, job: job)
        let task = SensitivityTask(batches: 0..<3, probes: 0..<2, groups: 0..<1)
        let result = try runner.run(task)
        var aggregator = TraceAggregator(job: job)
        try aggregator.add(result)
        try aggregator.add(result)   // at-least-once delivery
        var tampered = result
        tampered.values[0] += 1
        XCTAssertThrowsError(try aggregator.add(tampered))
        var short = result
        short.values.removeLast()
        XCTAssertThrowsError(try aggregator.add(short))
        XCTAssertThrowsError(try runner.run(SensitivityTask(batches: 0..<4, probes: 0..<1, groups: 0..<1)))
    }
}

/// The canonical cut of a job covers every (group, probe, batch) cell exactly once.
final class JobCuttingTests: XCTestCase {
    func testCanonicalTasksCoverEachCellOnce() throws {
        let job = try SensitivityJob(method: .hutchinson, mode: .layer, seed: 2, samples: 23, batchSize: 5, layerCount: 4)
        XCTAssertEqual(job.batchCount, 5)
        XCTAssertEqual(job.examples(ofBatch: 4), 20..<23)
        for (bpt, ppt) in [(1, 1), (2, 3), (5, 10), (.max, .max)] {
            var seen: [String: Int] = [:]
            for task in job.tasks(probes: 3..<10, batchesPerTask: bpt, probesPerTask: ppt) {
                XCTAssertNoThrow(try task.validate(in: job))
                for g in task.groups { for p in task.probes { for b in task.batches { seen["\(g) \(p) \(b)", default: 0] += 1 } } }
            }
            XCTAssertEqual(seen.count, 4 * 7 * 5)
            XCTAssertTrue(seen.values.allSatisfy { $0 == 1 })
        }
        let exact = try SensitivityJob(method: .exact, samples: 23, batchSize: 5, layerCount: 4)
        XCTAssertEqual(exact.tasks(batchesPerTask: 2).count, 4 * 3)
        XCTAssertTrue(exact.tasks().allSatisfy { $0.probes.isEmpty })
    }

    func testInvalidJobsAndTasksAreRefused() throws {
        XCTAssertThrowsError(try SensitivityJob(method: .exact, samples: 0, batchSize: 5, layerCount: 4))
        XCTAssertThrowsError(try SensitivityJob(method: .exact, samples: 3, batchSize: 0, layerCount: 4))
        XCTAssertThrowsError(try SensitivityJob(method: .exact, samples: 3, batchSize: 1, layerCount: 3, layerGroups: [[0, 1], [1, 2]]))
        XCTAssertThrowsError(try SensitivityJob(method: .hutchinson, mode: .joint, samples: 3, batchSize: 1, layerCount: 2, layerGroups: [[0], [1]]))
        let job = try SensitivityJob(method: .hutchinson, samples: 3, batchSize: 1, layerCount: 2)
        XCTAssertThrowsError(try SensitivityTask(batches: 0..<1, probes: 0..<0, groups: 0..<1).validate(in: job))
        XCTAssertThrowsError(try SensitivityTask(batches: 2..<4, probes: 0..<1, groups: 0..<1).validate(in: job))
        XCTAssertThrowsError(try SensitivityTask(batches: 0..<1, probes: 0..<1, groups: 0..<2).validate(in: job))
    }

    func testResultsSurviveACodableRoundTripBitForBit() throws {
        let c = try Fixtures.load("mlp")
        let job = try SensitivityJob(method: .hutchinson, seed: 4, samples: 12, batchSize: 5, layerCount: 3)
        let result = try TaskRunner(graph: c.graph, dataset: c.dataset, job: job)
            .run(SensitivityTask(batches: 1..<3, probes: 2..<5, groups: 0..<1))
        let decoded = try JSONDecoder().decode(TaskResult.self, from: JSONEncoder().encode(result))
        XCTAssertEqual(decoded.values.map(\.bitPattern), result.values.map(\.bitPattern))
        XCTAssertEqual(decoded.task, result.task)
    }
}
