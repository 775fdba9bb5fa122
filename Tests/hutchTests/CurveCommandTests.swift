import Foundation
import XCTest

/// `hutch keygen` and CURVE on `hutch coordinator/worker/status/run` as real processes
/// (an extension so that it shares ClusterCommandTests' process helpers and clean-up).
extension ClusterCommandTests {
    func keygen(_ name: String) throws -> String {
        let prefix = directory.appendingPathComponent(name).path
        let outcome = try HutchProcess.run(["keygen", "--out", prefix])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return prefix
    }

    func testKeygenWritesAPrivateSecretKeyAndAPublicKeyAndNeverOverwritesSilently() throws {
        let prefix = try keygen("keys/worker1")
        let directoryMode = (try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("keys").path)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(directoryMode, 0o700, "a missing key directory is created private")
        let mode = (try FileManager.default.attributesOfItem(atPath: prefix + ".key")[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o600)
        let secret = try String(contentsOfFile: prefix + ".key", encoding: .utf8)
        let publicLine = try String(contentsOfFile: prefix + ".pub", encoding: .utf8)
        XCTAssertEqual(secret.count, 41, "40 Z85 characters and a newline: \(secret)")
        XCTAssertTrue(publicLine.hasSuffix(" worker1\n"), publicLine)
        XCTAssertEqual(publicLine.split(separator: " ").first?.count, 40)
        XCTAssertNotEqual(secret.prefix(40), publicLine.prefix(40))
        let again = try HutchProcess.run(["keygen", "--out", prefix])
        XCTAssertEqual(again.status, 9, again.stderr)
        XCTAssertTrue(again.stderr.contains("--force"), again.stderr)
        XCTAssertEqual(try String(contentsOfFile: prefix + ".key", encoding: .utf8), secret, "the old key is kept")
        let forced = try HutchProcess.run(["keygen", "--out", prefix, "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertNotEqual(try String(contentsOfFile: prefix + ".key", encoding: .utf8), secret)
    }

    /// A CURVE coordinator bound on all interfaces (allowed without --insecure) with one
    /// authorized worker: the same sensitivity.json as the plaintext run. A worker with an
    /// unknown key and a plaintext worker, started first, get no work and are logged as refused.
    func testCurveJobMatchesThePlaintextRunAndRefusesStrangers() throws {
        let flags = ["--samples", "32", "--batch-size", "16"]
        let plaintext = try XCTUnwrap(try runCluster(flags, workers: 1))
        let coordinatorKey = try keygen("coordinator"), good = try keygen("good"), stranger = try keygen("stranger")
        let authorized = directory.appendingPathComponent("authorized_keys")
        try ("# the lab's workers\n" + String(contentsOfFile: good + ".pub", encoding: .utf8)).write(to: authorized, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("curve-job")
        let coordinator = try start(["coordinator", "--bind", "tcp://0.0.0.0:*", "--curve-key", coordinatorKey + ".key",
                                     "--authorized-keys", authorized.path] + flags + ["--state", out.path], log: "coordinator")
        guard let announced = announcedEndpoint() else { return }
        XCTAssertTrue(announced.hasPrefix("tcp://0.0.0.0:"), announced)
        let endpoint = announced.replacingOccurrences(of: "tcp://0.0.0.0:", with: "tcp://127.0.0.1:")
        let intruder = try start(["worker", "--connect", endpoint, "--name", "intruder", "--threads", "1",
                                  "--curve-key", stranger + ".key", "--coordinator-key", coordinatorKey + ".pub"], log: "intruder")
        let plain = try start(["worker", "--connect", endpoint, "--name", "plain", "--threads", "1"], log: "plain")
        let strangerKey = try String(contentsOfFile: stranger + ".pub", encoding: .utf8).prefix(40)
        XCTAssertTrue(eventually(30) {
            stderr("coordinator").contains("refused CURVE key \(strangerKey) from 127.0.0.1")
                && stderr("coordinator").contains("refused a connection on")
        }, stderr("coordinator"))
        let status = try HutchProcess.run(["status", "--connect", endpoint, "--json", "--curve-key", good + ".key",
                                           "--coordinator-key", coordinatorKey + ".pub"])
        XCTAssertEqual(status.status, 0, "an authorized key may ask for the status: \(status.stderr)")
        XCTAssertTrue(status.stdout.contains("\"workers\":[]"), "no worker joined yet: \(status.stdout)")
        let refusedStatus = try HutchProcess.run(["status", "--connect", endpoint, "--timeout", "0.5"])
        XCTAssertEqual(refusedStatus.status, 3, "a plaintext status client gets no answer: \(refusedStatus.stderr)")
        let worker = try start(["worker", "--connect", endpoint, "--name", "good", "--threads", "1",
                                "--curve-key", good + ".key", "--coordinator-key", coordinatorKey + ".pub"], log: "good")
        XCTAssertEqual(wait(coordinator, 120, "the CURVE coordinator"), 0, stderr("coordinator"))
        XCTAssertEqual(wait(worker, 10, "the authorized worker"), 0, stderr("good"))
        XCTAssertEqual(try? Data(contentsOf: out.appendingPathComponent("sensitivity.json")), plaintext,
                       "CURVE does not change a byte of the result")
        XCTAssertTrue(stderr("coordinator").contains("worker good joined"), stderr("coordinator"))
        XCTAssertTrue(stderr("coordinator").contains("worker good authenticated with the CURVE key named 'good'"), stderr("coordinator"))
        XCTAssertFalse(stderr("coordinator").contains("intruder") || stderr("coordinator").contains("plain joined"), stderr("coordinator"))
        for refused in [intruder, plain] {
            XCTAssertTrue(refused.isRunning, "a refused worker hears nothing; it is still waiting")
        }
        XCTAssertFalse(stderr("intruder").contains("job complete") || stderr("plain").contains("job complete"))
        XCTAssertTrue(eventually(15) { stderr("intruder").contains("no WELCOME") && stderr("intruder").contains("--authorized-keys") },
                      "a refused worker says what to check: \(stderr("intruder"))")
        // libzmq reports the refused plaintext handshake as a mechanism mismatch or without detail
        XCTAssertTrue(eventually(15) { stderr("plain").contains("start this worker with --curve-key W.key --coordinator-key C.pub") },
                      "a plaintext worker is told to use CURVE: \(stderr("plain"))")
    }

    func testRunWithEphemeralCurveKeysMatchesTrace() throws {
        let flags = ["--samples", "32", "--batch-size", "16"]
        let reference = try trace(flags)
        XCTAssertEqual(try runCluster(flags + ["--curve"], workers: 1), reference)
        XCTAssertTrue(stderr("run1").contains("CURVE on"), stderr("run1"))
        XCTAssertFalse(stderr("run1").contains("refused"), stderr("run1"))
    }

    /// Bad key material: one line naming the file, exit code 9 (2 for flags that go together).
    func testBadKeyFilesAreOneLineErrorsWithExitCode9() throws {
        let coordinatorKey = try keygen("c"), worker = try keygen("w")
        let authorized = directory.appendingPathComponent("auth")
        try "\(String(contentsOfFile: worker + ".pub", encoding: .utf8))not-a-key w2\n".write(to: authorized, atomically: true, encoding: .utf8)
        let model = ["--samples", "16", "--batch-size", "16", "--state", directory.appendingPathComponent("never").path]
        func check(_ arguments: [String], _ code: Int32, _ fragment: String) throws {
            let outcome = try HutchProcess.run(arguments)
            XCTAssertEqual(outcome.status, code, "\(arguments): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(fragment), "\(arguments): \(outcome.stderr)")
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, "one line: \(outcome.stderr)")
        }
        try check(["coordinator", "--bind", "tcp://127.0.0.1:*", "--curve-key", coordinatorKey + ".key",
                   "--authorized-keys", authorized.path] + model, 9, "\(authorized.path):2: 'not-a-key' is not a CURVE public key")
        chmod(coordinatorKey + ".key", 0o644)
        try check(["coordinator", "--bind", "tcp://127.0.0.1:*", "--curve-key", coordinatorKey + ".key",
                   "--authorized-keys", worker + ".pub"] + model, 9, "chmod 600")
        try check(["worker", "--connect", "tcp://127.0.0.1:9", "--curve-key", worker + ".key",
                   "--coordinator-key", worker + ".key"], 9, "\(worker).key is a secret key file")
        try check(["worker", "--connect", "tcp://127.0.0.1:9", "--curve-key", worker + ".key"], 2, "--coordinator-key")
        try check(["coordinator", "--bind", "tcp://10.1.2.3:5555"] + model, 2, "--curve-key and --authorized-keys")
    }
}
