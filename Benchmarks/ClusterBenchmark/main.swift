import Foundation
import HutchCluster
import HutchClusterCore
import HutchSensitivity
import HutchWire

// Coordinator throughput with many lightweight simulated workers over real loopback sockets:
// the real CoordinatorServer and WorkerCore, with a "computation" that returns zeros at once, so
// only the protocol, the sockets and the coordinator's bookkeeping are measured. The coordinator
// runs as `hutch coordinator --state DIR` does: every accepted result goes to a journal in a
// fresh temporary state directory, fsynced in groups (JournalWriter's defaults: 64 records or
// 100 ms), with quarantine on as always; optionally with CURVE (a ZAP handler admitting one key
// per simulated worker) and redundant execution.
// usage: ClusterBenchmark [--curve] [--verify-fraction F] [workers...]   (default 1 10 100 1000)

func rssMB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kb / 1024
}

/// Zeros of the right shape for a task of `job`.
func zeros(_ task: SensitivityTask, _ job: SensitivityJob) -> SensitivityTaskResult {
    let width = job.layers(ofGroups: task.groups).count
    return SensitivityTaskResult(task: task, exampleCounts: task.batches.map { job.examples(ofBatch: $0).count },
                                 values: Array(repeating: 0, count: task.batches.count * width))
}

/// Runs `count` simulated workers on this thread until each is told the job is complete.
func simulateWorkers(_ count: Int, first: Int, endpoint: String, job: SensitivityJob, deadline: Date,
                     curve: [CurveClientConfig]?) throws {
    let context = try ZMQContext(ioThreads: 1, maxSockets: Int32(count + 16))
    var cores: [WorkerCore] = []
    var sockets: [ZMQSocket] = []
    for i in 0..<count {
        var config = WorkerConfig(name: "sim-\(first + i)", instance: UInt64(first + i + 1))
        config.slots = 2
        cores.append(WorkerCore(config: config))
        sockets.append(try ZMQSocket.workerDealer(context, connect: endpoint, instance: config.instance, curve: curve?[i]))
    }
    var done = [Bool](repeating: false, count: count)
    var lastTick: UInt64 = 0
    func perform(_ i: Int, _ actions: [WorkerAction]) throws {
        var pending = actions
        while !pending.isEmpty {
            let action = pending.removeFirst()
            switch action {
            case .send(let m): _ = try sockets[i].send(m, dontWait: true)
            case .compute(let r):
                guard case .sensitivity(let task) = r.work else { continue }
                pending += cores[i].handle(.computed(taskID: r.taskID, leaseID: r.leaseID, .success(zeros(task, job))),
                                           now: MonotonicClock.nowMs)
            case .exit: done[i] = true
            case .reconnect, .log: break
            }
        }
    }
    while done.contains(false) && Date() < deadline {
        let now = MonotonicClock.nowMs
        if now - lastTick >= 100 {
            lastTick = now
            for i in 0..<count where !done[i] { try perform(i, cores[i].handle(.tick, now: now)) }
        }
        let ready = try ZMQPoller.poll(sockets.map { ($0, ZMQPollEvents.readable) }, timeoutMs: 10)
        for i in 0..<count where ready[i].contains(.readable) {
            while let incoming = try sockets[i].receiveHWP(dontWait: true) {
                if case .message(_, let m) = incoming { try perform(i, cores[i].handle(.message(m), now: MonotonicClock.nowMs)) }
            }
        }
    }
    for s in sockets { s.close() }
}

var arguments = Array(CommandLine.arguments.dropFirst())
let useCurve = arguments.contains("--curve")
arguments.removeAll { $0 == "--curve" }
var verifyFraction = 0.0
if let i = arguments.firstIndex(of: "--verify-fraction"), i + 1 < arguments.count, let f = Double(arguments[i + 1]) {
    verifyFraction = f
    arguments.removeSubrange(i...(i + 1))
}
let counts = arguments.compactMap { Int($0) }
print("coordinator: journal in a temporary state directory, quarantine on, CURVE \(useCurve ? "on" : "off"), verify fraction \(verifyFraction)")
print("workers  tasks  seconds  tasks/s  journal records  fsyncs  peak RSS MB (coordinator and simulated workers: one process)")
for workers in counts.isEmpty ? [1, 10, 100, 1000] : counts {
    let tasksPerWorker = 20
    let job = try SensitivityJob(method: .exact, samples: max(2000, workers * tasksPerWorker), batchSize: 1, layerCount: 4)
    var options = TraceOptions()
    options.method = .exact
    let spec = SensitivityWorkSpec(job: job, source: ModelSource(modelPath: "none"), probesPerCall: 1)
    var config = CoordinatorConfig(epoch: 1)
    config.verifyFraction = verifyFraction
    var core = CoordinatorCore(config: config, spec: spec, options: options, workers: workers,
                               tasksPerWorker: tasksPerWorker)
    // CURVE: the coordinator's keypair, one keypair per simulated worker, all of them authorized
    var serverCurve: CurveServerConfig?
    var clientCurve: [CurveClientConfig]?
    if useCurve {
        let server = try CurveKeyPair.generate()
        let clients = try (0..<workers).map { _ in try CurveKeyPair.generate() }
        serverCurve = CurveServerConfig(keyPair: server, authorized: AuthorizedKeys(Dictionary(uniqueKeysWithValues:
            clients.enumerated().map { ($0.element.publicKey, "sim-\($0.offset)") })))
        clientCurve = clients.map { CurveClientConfig(keyPair: $0, serverKey: server.publicKey) }
    }
    let server = try CoordinatorServer(bind: "tcp://127.0.0.1:*", curve: serverCurve)
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-benchmark-\(getpid())-\(workers)")
    try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: state) }
    let journal = try JournalWriter.create(path: state.appendingPathComponent("journal").path, header: JournalHeader(job: core.jobDigest))
    server.journal = journal
    let endpoint = server.endpoint
    let deadline = Date().addingTimeInterval(300)
    let threads = min(4, workers)
    var workerThreads: [Thread] = []
    for t in 0..<threads {
        let share = workers / threads + (t < workers % threads ? 1 : 0)
        let first = t * (workers / threads) + min(t, workers % threads)
        let keys = clientCurve.map { Array($0[first..<(first + share)]) }
        let thread = Thread {
            do {
                try simulateWorkers(share, first: first, endpoint: endpoint, job: job, deadline: deadline, curve: keys)
            } catch {
                print("worker thread: \(error)")
            }
        }
        thread.stackSize = 8 << 20
        workerThreads.append(thread)
    }
    let start = Date()
    for thread in workerThreads { thread.start() }
    var peak = rssMB()
    let outcome = try server.run(&core, log: { _ in }, progress: { _ in peak = max(peak, rssMB()) })
    try journal.sync()   // as the coordinator does before it writes outputs
    let seconds = Date().timeIntervalSince(start)
    guard case .sensitivity = outcome else { print("\(workers): failed: \(outcome)"); continue }
    let tasks = core.tasksDone
    print(String(format: "%7d  %5d  %7.2f  %7.0f  %15d  %6d  %.0f", workers, tasks, seconds, Double(tasks) / seconds,
                 journal.appended, journal.syncs, peak))
    Thread.sleep(forTimeInterval: 0.5)
}
