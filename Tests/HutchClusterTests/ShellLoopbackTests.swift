import Foundation
import HutchCluster
import HutchClusterCore
import HutchSensitivity
import HutchWire
import XCTest

/// The ZeroMQ shells in one process on loopback: CoordinatorServer and WorkerClient around the
/// real cores, with a computation that returns zeros, and a hostile peer sending garbage.
final class ShellLoopbackTests: XCTestCase {
    static func zeros(_ request: ComputeRequest, _ job: SensitivityJob) -> ComputeOutcome {
        guard case .sensitivity(let task) = request.work else { return .failure(.poison, "unexpected work") }
        let width = job.layers(ofGroups: task.groups).count
        return .success(SensitivityTaskResult(task: task, exampleCounts: task.batches.map { job.examples(ofBatch: $0).count },
                                              values: Array(repeating: 0.5, count: task.batches.count * width)))
    }

    func testWorkersFinishAJobWhileAHostilePeerSendsGarbage() throws {
        let job = try SensitivityJob(method: .exact, samples: 40, batchSize: 2, layerCount: 3)
        var options = TraceOptions()
        options.method = .exact
        let spec = SensitivityWorkSpec(job: job, source: ModelSource(modelPath: "none"), probesPerCall: 1)
        var core = CoordinatorCore(config: CoordinatorConfig(epoch: 5), spec: spec, options: options, workers: 2, tasksPerWorker: 5)
        let server = try CoordinatorServer(bind: "tcp://127.0.0.1:*")
        let endpoint = server.endpoint
        let deadline = Date().addingTimeInterval(30)
        let finished = Counter()
        var threads: [Thread] = []
        for i in 0..<2 {
            let thread = Thread {
                var worker = WorkerCore(config: WorkerConfig(name: "w\(i)", instance: UInt64(77 + i)))
                let client = WorkerClient(connect: endpoint) { ShellLoopbackTests.zeros($0, job) }
                client.orphaned = { Date() > deadline }
                do { try client.run(&worker, log: { _ in }) } catch {}
                finished.add()
            }
            threads.append(thread)
        }
        let hostile = Thread {
            guard let context = try? ZMQContext(), let socket = try? ZMQSocket(context, type: .dealer) else { return }
            try? socket.setLinger(milliseconds: 0)
            try? socket.connect(endpoint)
            var state: UInt32 = 12345
            func byte() -> UInt8 { state = state &* 1_103_515_245 &+ 12345; return UInt8(truncatingIfNeeded: state >> 16) }
            let valid = (try? WireCodec.encode(.credit(Credit(credit: 3)))) ?? []
            for n in 0..<300 {
                var frames: [[UInt8]]
                switch n % 3 {
                case 0: frames = (0..<Int(byte() % 12 + 1)).map { _ in (0..<Int(byte() % 40)).map { _ in byte() } }
                case 1: frames = valid.map { $0.map { b in byte() % 7 == 0 ? byte() : b } }   // mutated valid message
                default: frames = [Array("HUTCH".utf8) + [1], [byte() % 20]] + [[byte()]]
                }
                _ = try? socket.send(frames, dontWait: true)
                usleep(1000)
            }
            socket.close()
        }
        hostile.start()
        usleep(100_000)   // garbage first, then during the job
        for t in threads { t.start() }
        let outcome = try server.run(&core, log: { _ in }, abandon: { Date() > deadline ? "timeout" : nil })
        guard case .sensitivity(let estimates) = outcome else { return XCTFail("\(outcome)") }
        // exact cells are per-batch sums: every cell 0.5 gives 0.5 × batches / examples
        XCTAssertEqual(estimates.map(\.trace), Array(repeating: 0.5 * Double(job.batchCount) / Double(job.samples), count: 3))
        XCTAssertEqual(core.tasksDone, 10, "two workers × five tasks each, cut from 20 batches")
        let waitUntil = Date().addingTimeInterval(10)
        while Date() < waitUntil && finished.value < 2 { usleep(20_000) }
        XCTAssertEqual(finished.value, 2, "both workers were told the job is complete")
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
