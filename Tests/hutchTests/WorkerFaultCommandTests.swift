import Foundation
import XCTest

/// Worker faults on real processes (an extension so that it shares ClusterCommandTests' process
/// helpers and clean-up): a worker frozen past the liveness window that then runs on, and a worker
/// killed at a random moment, leave the output byte-identical to `hutch trace`.
extension ClusterCommandTests {
    func testWorkerStoppedPastLivenessRunsOnAndAnotherKilledAtARandomMoment() throws {
        let flags = ["--method", "hutchinson", "--mode", "layer", "--probes", "48", "--samples", "64", "--batch-size", "16"]
        let reference = try trace(flags)
        let out = directory.appendingPathComponent("coordinated")
        let coordinator = try start(["coordinator", "--bind", "tcp://127.0.0.1:*", "--workers", "3"] + flags + ["--state", out.path],
                                    log: "coordinator")
        guard let endpoint = announcedEndpoint() else { return }
        func worker(_ name: String) throws -> Process {
            try start(["worker", "--connect", endpoint, "--name", name, "--threads", "1"], log: name)
        }
        func joins(_ name: String) -> Int { stderr("coordinator").components(separatedBy: "worker \(name) joined").count - 1 }

        // SIGSTOP as soon as it joined (it holds the leases of its HELLO), until the coordinator
        // expires it; SIGCONT: it runs on with stale leases, is told it expired, and joins again.
        let sleeper = try worker("sleeper")
        XCTAssertTrue(eventually(30) { joins("sleeper") == 1 }, stderr("coordinator"))
        kill(sleeper.processIdentifier, SIGSTOP)
        XCTAssertTrue(eventually(30) { stderr("coordinator").contains("worker sleeper expired") }, stderr("coordinator"))
        kill(sleeper.processIdentifier, SIGCONT)
        XCTAssertTrue(eventually(30) { joins("sleeper") == 2 }, "the continued worker rejoins: \(stderr("coordinator"))")

        // a second worker killed at a random moment of its work (the delay is in every message)
        let delayMs = UInt32.random(in: 0...1500)
        let victim = try worker("victim")
        let steady = try worker("steady")
        XCTAssertTrue(eventually(30) { joins("victim") == 1 }, stderr("coordinator"))
        usleep(delayMs * 1000)
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()

        XCTAssertEqual(wait(coordinator, 120, "the coordinator"), 0, "victim killed \(delayMs) ms after joining: \(stderr("coordinator"))")
        XCTAssertEqual(wait(sleeper, 10, "the continued worker"), 0, stderr("sleeper"))
        XCTAssertEqual(wait(steady, 10, "the steady worker"), 0, stderr("steady"))
        XCTAssertEqual(try? Data(contentsOf: out.appendingPathComponent("sensitivity.json")), reference,
                       "victim killed \(delayMs) ms after joining")
    }
}
