import Foundation
import HutchCluster
import HutchClusterCore
import HutchReport

/// Collects run.json while `hutch run` / `hutch coordinator` works: `observe` is given the core
/// after every step (it notes workers that joined and phase changes), `finish` writes
/// DIR/run.json and DIR/report.html. Phase times are wall-clock times between the first steps
/// the coordinator saw in each phase.
final class RunRecorder {
    let command: String
    let expectedWorkers: Int
    let started = Date()
    private var workers: [String] = []
    /// Each worker process's instance, in `workers` order.
    private var instances: [UInt64] = []
    private var seen: Set<UInt64> = []
    private var phases: [(name: String, start: Date, tasksAtStart: Int)]
    private var tasks = 0, duplicates = 0

    init(command: String, expectedWorkers: Int) {
        self.command = command
        self.expectedWorkers = expectedWorkers
        phases = [("setup", started, 0)]
    }

    func observe(_ core: CoordinatorCore) {
        // one entry per worker process (a restarted worker has a new instance)
        for worker in core.connectedWorkers where seen.insert(worker.instance).inserted {
            workers.append(worker.name)
            instances.append(worker.instance)
        }
        // the core's phases, named for people: waiting = solving the plan, finished = writing outputs
        let name = ["waiting": "plan", "finished": "outputs"][core.phase] ?? core.phase
        if let last = phases.last, last.name != name {
            // a task phase starts with its first lease (the core knows when); others at this step
            var start = Date(), done = core.tasksDone
            if name == "sensitivity" || name == "quantize", let startMs = core.phaseStartMs {
                let now = MonotonicClock.nowMs
                start = Date(timeIntervalSinceNow: -Double(now - min(now, startMs)) / 1000)
                done = core.tasksDoneAtPhaseStart
            }
            phases.append((name, max(start, last.start), done))
        }
        tasks = core.tasksDone
        duplicates = core.duplicates
    }

    /// The record as of now; the job's outputs are written.
    func record(_ core: CoordinatorCore, model: String, data: [String]) -> RunRecord {
        observe(core)
        if phases.last?.name != "outputs" { phases.append(("outputs", Date(), core.tasksDone)) }
        let end = Date()
        let list = phases.enumerated().map { i, phase -> RunRecord.Phase in
            let next = i + 1 < phases.count ? phases[i + 1] : (name: "", start: end, tasksAtStart: tasks)
            return RunRecord.Phase(name: phase.name, seconds: max(0, next.start.timeIntervalSince(phase.start)),
                                   tasks: max(0, next.tasksAtStart - phase.tasksAtStart))
        }
        let format = ISO8601DateFormatter()
        return RunRecord(hutchVersion: hutchVersion, command: command, model: model, data: data,
                         startedAt: format.string(from: started), finishedAt: format.string(from: end),
                         wallSeconds: end.timeIntervalSince(started), workersExpected: expectedWorkers, workers: workers,
                         tasks: tasks, duplicates: duplicates, phases: list, coordinatorPeakResidentBytes: PeakResidentMemory.bytes().map { Int($0) },
                         workerPeakResidentBytes: instances.map { core.workerPeakResidentBytes[$0].map { Int($0) } })
    }

    /// Writes DIR/run.json, then DIR/report.html from DIR's files (as `hutch report DIR` does).
    func finish(_ core: CoordinatorCore, directory: String, source: ModelSource) throws {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("run.json").path
        let data = [source.dataNPZ, source.inputsNPY, source.labelsNPY].compactMap { $0 }
        try writeAtomically(try record(core, model: source.modelPath, data: data).encoded(), to: path)
        let report = try ReportJob.write(directory: directory, evaluate: nil, out: nil)
        log("coordinator: run record → \(path); report → \(report)")
    }
}
