import Foundation
import XCTest

/// What a worker process holds: its produced-blob directory is removed however it stops, and
/// `--memory` caps its stacking without changing a bit of the output.
extension ClusterCommandTests {
    /// `hutch-produced-*` directories under a private TMPDIR.
    private func producedDirectories(_ tmp: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []).filter { $0.hasPrefix("hutch-produced-") }
    }

    /// Launchers and `hutch run` stop workers with SIGTERM (a terminal with SIGINT): the worker
    /// removes its produced-blob directory and still dies by that signal.
    func testASignalledWorkerLeavesNoTemporaryDirectory() throws {
        for sig in [SIGTERM, SIGINT] {
            let tmp = directory.appendingPathComponent("tmp-\(sig)")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            let name = "signalled-\(sig)"
            let worker = try start(["worker", "--connect", "tcp://127.0.0.1:9", "--name", name, "--threads", "1"], log: name,
                                   environment: ["TMPDIR": tmp.path])
            XCTAssertTrue(eventually(30) { stderr(name).contains("connecting to") }, stderr(name))
            XCTAssertEqual(producedDirectories(tmp).count, 1, "the worker made its directory in TMPDIR")
            kill(worker.processIdentifier, sig)
            XCTAssertNotNil(wait(worker, 10, "the signalled worker"))
            XCTAssertEqual(worker.terminationReason, .uncaughtSignal, stderr(name))
            XCTAssertEqual(worker.terminationStatus, sig)
            XCTAssertEqual(producedDirectories(tmp), [], "signal \(sig)")
        }
    }

    /// A worker with a tiny --memory stacks one seed per pass; ggn's bits do not depend on it.
    func testWorkerMemoryCapsStackingAndKeepsTheBytesOfTrace() throws {
        let flags = ["--method", "ggn", "--probes", "4", "--samples", "32", "--batch-size", "16", "--seed", "3"]
        let reference = try trace(flags)
        let out = directory.appendingPathComponent("small-memory")
        let coordinator = try start(["coordinator", "--bind", "tcp://127.0.0.1:*", "--workers", "1"] + flags + ["--state", out.path],
                                    log: "coordinator")
        guard let endpoint = announcedEndpoint() else { return }
        let worker = try start(["worker", "--connect", endpoint, "--name", "small", "--threads", "1", "--memory", "0.000001"], log: "small")
        XCTAssertEqual(wait(coordinator, 120, "the coordinator"), 0, stderr("coordinator"))
        XCTAssertEqual(wait(worker, 10, "the worker"), 0, stderr("small"))
        XCTAssertTrue(stderr("small").contains("--memory 1e-06 GB: exact, ggn and activation passes stack at most 0.0005 MB"), stderr("small"))
        XCTAssertEqual(try? Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference)
        let refused = try HutchProcess.run(["worker", "--connect", endpoint, "--memory", "0"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("--memory must be a positive number of GB"), refused.stderr)
    }
}
