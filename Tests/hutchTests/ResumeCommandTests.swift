import Foundation
import XCTest

/// Real processes: a coordinator with a state directory is killed (SIGKILL) or stopped (SIGTERM)
/// mid-job and started again with the same flags; its separate workers reconnect and the outputs
/// are byte-identical to an undisturbed run. Torn journals resume, other jobs are refused.
final class ResumeCommandTests: ProcessTestCase {
    /// A Hutchinson job with a budget: sensitivity rounds, quantization errors, plan, quantize.
    let flags = ["--method", "hutchinson", "--mode", "layer", "--probes", "160", "--samples", "64", "--batch-size", "16",
                 "--bits", "2,4,8", "--avg-bits", "5"]
    let outputs = ["sensitivity.json", "plan.json", "quantized.onnx"]

    /// A loopback port free right now (the coordinator must come back on the same one).
    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("no socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw XCTSkip("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func journalBytes(_ state: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: state.appendingPathComponent("journal").path))?[.size] as? Int) ?? 0
    }

    /// The undisturbed run's outputs.
    func reference() throws -> [String: Data] {
        let out = directory.appendingPathComponent("reference")
        let run = try start(["run", "--workers", "2", "--threads", "1"] + flags + ["--out", out.path], log: "reference")
        XCTAssertEqual(wait(run, 120, "the reference run"), 0, stderr("reference"))
        var files: [String: Data] = [:]
        for name in outputs { files[name] = try Data(contentsOf: out.appendingPathComponent(name)) }
        return files
    }

    func assertOutputs(_ state: URL, equal reference: [String: Data], file: StaticString = #filePath, line: UInt = #line) {
        for name in outputs {
            XCTAssertEqual(try? Data(contentsOf: state.appendingPathComponent(name)), reference[name], "\(name) differs", file: file, line: line)
        }
    }

    /// SIGKILL mid-sensitivity, then SIGTERM after the restart, then a last restart: the two
    /// separate workers stay up throughout and the outputs equal the undisturbed run's.
    func testCoordinatorKilledThenTerminatedResumesWithTheSameWorkers() throws {
        let reference = try reference()
        let state = directory.appendingPathComponent("state")
        let port = try freePort()
        let coordinatorArgs = ["coordinator", "--bind", "tcp://127.0.0.1:\(port)", "--workers", "2"] + flags + ["--state", state.path]
        var coordinator = try start(coordinatorArgs, log: "coordinator")
        let workers = try (1...2).map { try start(["worker", "--connect", "tcp://127.0.0.1:\(port)", "--name", "w\($0)", "--threads", "1"], log: "w\($0)") }
        // some results journaled, but not all
        XCTAssertTrue(eventually(60) { journalBytes(state) > 15_000 }, stderr("coordinator"))
        kill(coordinator.processIdentifier, SIGKILL)
        coordinator.waitUntilExit()
        let killedAt = journalBytes(state)
        XCTAssertFalse(FileManager.default.fileExists(atPath: state.appendingPathComponent("sensitivity.json").path), "killed mid-sensitivity")

        coordinator = try start(coordinatorArgs, log: "coordinator")
        XCTAssertTrue(eventually(30) { stderr("coordinator").contains("results replayed") }, stderr("coordinator"))
        XCTAssertTrue(eventually(30) { journalBytes(state) > killedAt + 8_000 }, "the restarted coordinator gets new results: \(stderr("coordinator"))")
        kill(coordinator.processIdentifier, SIGTERM)
        XCTAssertEqual(wait(coordinator, 20, "the terminated coordinator"), 10, "stopped before the end: \(stderr("coordinator"))")
        XCTAssertTrue(stderr("coordinator").contains("run the same command again to resume"), stderr("coordinator"))

        coordinator = try start(coordinatorArgs, log: "coordinator")
        XCTAssertEqual(wait(coordinator, 60, "the restarted coordinator"), 0, stderr("coordinator"))
        for (i, w) in workers.enumerated() { XCTAssertEqual(wait(w, 10, "worker \(i + 1)"), 0, stderr("w\(i + 1)")) }
        let replays = stderr("coordinator").components(separatedBy: "results replayed").count - 1
        XCTAssertEqual(replays, 2, stderr("coordinator"))
        // the same two worker processes served all three coordinators
        for name in ["w1", "w2"] {
            let joins = stderr("coordinator").components(separatedBy: "worker \(name) joined").count - 1
            XCTAssertGreaterThanOrEqual(joins, 2, "\(name) rejoined a restarted coordinator: \(stderr("coordinator"))")
        }
        XCTAssertTrue(stderr("w1").contains("coordinator shut down"), "SIGTERM told the workers: \(stderr("w1"))")
        assertOutputs(state, equal: reference)
        // once complete, the same command says so and leaves the outputs
        let journal = try Data(contentsOf: state.appendingPathComponent("journal"))
        let again = try HutchProcess.run(coordinatorArgs)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("is complete"), again.stderr)
        XCTAssertFalse(again.stderr.contains("workers connect to"), again.stderr)
        assertOutputs(state, equal: reference)
        // an output removed from a complete job is written again from the journal alone
        try FileManager.default.removeItem(at: state.appendingPathComponent("quantized.onnx"))
        let rebuilt = try HutchProcess.run(coordinatorArgs)
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertTrue(rebuilt.stderr.contains("quantized.onnx is missing"), rebuilt.stderr)
        XCTAssertFalse(rebuilt.stderr.contains("workers connect to"), "no work left to serve: \(rebuilt.stderr)")
        assertOutputs(state, equal: reference)
        XCTAssertEqual(try Data(contentsOf: state.appendingPathComponent("journal")), journal, "the journal is unchanged")
    }

    /// `hutch run --out DIR` is resumable too; a torn journal tail is cut with one warning.
    func testRunInterruptedWithATornJournalResumes() throws {
        let reference = try reference()
        let state = directory.appendingPathComponent("run-state")
        let args = ["run", "--workers", "2", "--threads", "1"] + flags + ["--out", state.path]
        let run = try start(args, log: "run")
        XCTAssertTrue(eventually(60) { journalBytes(state) > 15_000 }, stderr("run"))
        kill(run.processIdentifier, SIGINT)
        XCTAssertEqual(wait(run, 20, "the interrupted run"), 10, stderr("run"))
        // tear the last record: a crash in the middle of a write
        let journal = state.appendingPathComponent("journal")
        let handle = try FileHandle(forWritingTo: journal)
        try handle.truncate(atOffset: UInt64(journalBytes(state) - 5))
        try handle.close()
        let resumed = try HutchProcess.run(args)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let warnings = resumed.stderr.split(separator: "\n").filter { $0.contains("warning") && $0.contains("cut back to the last valid record") }
        XCTAssertEqual(warnings.count, 1, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("results replayed"), resumed.stderr)
        assertOutputs(state, equal: reference)
    }

    /// A state directory of another job is refused with exit code 11 and one line naming the
    /// difference; nothing in it changes.
    func testAnotherJobsStateDirectoryIsRefused() throws {
        let state = directory.appendingPathComponent("other")
        let small = ["--method", "hutchinson", "--probes", "4", "--samples", "16", "--batch-size", "16", "--bits", "none"]
        let first = try HutchProcess.run(["run", "--workers", "1", "--threads", "1"] + small + ["--out", state.path])
        XCTAssertEqual(first.status, 0, first.stderr)
        var journal = try Data(contentsOf: state.appendingPathComponent("journal"))
        // a crash after the last result but before the job-complete record (9 bytes): the replay
        // alone finishes the job, no socket is bound, the output comes out the same
        let sensitivity = try Data(contentsOf: state.appendingPathComponent("sensitivity.json"))
        try FileManager.default.removeItem(at: state.appendingPathComponent("sensitivity.json"))
        try journal.dropLast(9).write(to: state.appendingPathComponent("journal"))
        let replayed = try HutchProcess.run(["run", "--workers", "1", "--threads", "1"] + small + ["--out", state.path])
        XCTAssertEqual(replayed.status, 0, replayed.stderr)
        XCTAssertTrue(replayed.stderr.contains("results replayed"), replayed.stderr)
        XCTAssertFalse(replayed.stderr.contains("workers connect to"), "nothing left to serve: \(replayed.stderr)")
        XCTAssertEqual(try Data(contentsOf: state.appendingPathComponent("sensitivity.json")), sensitivity)
        journal = try Data(contentsOf: state.appendingPathComponent("journal"))
        // options are compared resolved: a default given explicitly is the same job
        let explicit = try HutchProcess.run(["run", "--workers", "2", "--threads", "1"] + small + ["--seed", "0", "--mode", "joint", "--out", state.path])
        XCTAssertEqual(explicit.status, 0, explicit.stderr)
        XCTAssertTrue(explicit.stderr.contains("is complete"), explicit.stderr)
        let other = try HutchProcess.run(["run", "--workers", "1", "--threads", "1"] + small + ["--seed", "7", "--out", state.path])
        XCTAssertEqual(other.status, 11, other.stderr)
        XCTAssertEqual(other.stderr.split(separator: "\n").count, 1, other.stderr)
        XCTAssertTrue(other.stderr.contains("seed"), other.stderr)
        XCTAssertEqual(try Data(contentsOf: state.appendingPathComponent("journal")), journal)
        // a journal of a newer format is refused too
        var newer = [UInt8](journal)
        newer[8] = 2
        try Data(newer).write(to: state.appendingPathComponent("journal"))
        let future = try HutchProcess.run(["run", "--workers", "1", "--threads", "1"] + small + ["--out", state.path])
        XCTAssertEqual(future.status, 11, future.stderr)
        XCTAssertTrue(future.stderr.contains("newer hutch"), future.stderr)
    }

    /// A ggn job is journaled like Hutchinson's: cut its journal in half (a torn record in the
    /// middle), remove the output, run again: the replayed half plus the recomputed rest give
    /// the same sensitivity.json.
    func testGaussNewtonJobResumesFromHalfItsJournal() throws {
        let state = directory.appendingPathComponent("ggn")
        let args = ["run", "--workers", "1", "--threads", "1", "--method", "ggn", "--probes", "40", "--probes-per-call", "2",
                    "--samples", "64", "--batch-size", "16", "--bits", "none", "--out", state.path]
        let first = try HutchProcess.run(args)
        XCTAssertEqual(first.status, 0, first.stderr)
        let sensitivity = try Data(contentsOf: state.appendingPathComponent("sensitivity.json"))
        try FileManager.default.removeItem(at: state.appendingPathComponent("sensitivity.json"))
        let journal = try Data(contentsOf: state.appendingPathComponent("journal"))
        try journal.prefix(journal.count / 2).write(to: state.appendingPathComponent("journal"))
        let resumed = try HutchProcess.run(args)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("results replayed"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("workers connect to") || resumed.stderr.contains("joined"), "the rest is computed again: \(resumed.stderr)")
        XCTAssertEqual(try Data(contentsOf: state.appendingPathComponent("sensitivity.json")), sensitivity)
    }

    /// Two coordinators on one state directory would interleave their journals: the second is refused.
    func testASecondCoordinatorOnTheSameStateDirectoryIsRefused() throws {
        let state = directory.appendingPathComponent("busy")
        let args = ["coordinator", "--bind", "tcp://127.0.0.1:*", "--method", "hutchinson", "--probes", "4", "--samples", "16",
                    "--batch-size", "16", "--bits", "none", "--state", state.path]
        let first = try start(args, log: "first")
        XCTAssertTrue(eventually(30) { stderr("first").contains("workers connect to") }, stderr("first"))
        let second = try HutchProcess.run(args)
        XCTAssertEqual(second.status, 11, second.stderr)
        XCTAssertTrue(second.stderr.contains("in use by another running coordinator"), second.stderr)
        XCTAssertTrue(first.isRunning)
        kill(first.processIdentifier, SIGTERM)
        XCTAssertEqual(wait(first, 20, "the first coordinator"), 10, stderr("first"))
    }
}
