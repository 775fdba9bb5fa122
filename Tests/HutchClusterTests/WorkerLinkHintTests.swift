import Foundation
import HutchCluster
import HutchClusterCore
import HutchSensitivity
import XCTest

/// A worker without a session says why after a while, from what its socket monitor saw: nothing
/// listening, a CURVE mismatch, or a coordinator that accepts but does not answer. CURVE is
/// named only where it can be the cause.
final class WorkerLinkHintTests: XCTestCase {
    /// Runs a plaintext or CURVE worker against `endpoint` until it gives its hint; returns it.
    func hint(_ endpoint: String, curve: CurveClientConfig? = nil) throws -> String {
        let job = try SensitivityJob(method: .exact, samples: 4, batchSize: 2, layerCount: 1)
        var core = WorkerCore(config: WorkerConfig(name: "w", instance: 77))
        let client = WorkerClient(connect: endpoint, curve: curve) { ShellLoopbackTests.zeros($0, job) }
        client.hintAfterMs = 1500
        let lines = ZAPHandlerTests.Lines()
        let deadline = Date().addingTimeInterval(20)
        client.orphaned = { Date() > deadline || lines.all.contains { $0.contains("no WELCOME") } }
        XCTAssertThrowsError(try client.run(&core, log: { lines.append($0) }))
        return try XCTUnwrap(lines.all.first { $0.contains("no WELCOME") }, "\(lines.all)")
    }

    /// A loopback port that nothing listens on (bound, read, released).
    func closedPort() throws -> String {
        let context = try ZMQContext()
        let probe = try ZMQSocket(context, type: .router)
        try probe.bind("tcp://127.0.0.1:*")
        let endpoint = try probe.lastEndpoint
        probe.close()
        return endpoint
    }

    func testNothingListening() throws {
        let endpoint = try closedPort()
        let line = try hint(endpoint)
        XCTAssertTrue(line.contains("nothing accepts connections at \(endpoint)"), line)
        XCTAssertFalse(line.contains("CURVE"), "CURVE cannot be the cause: \(line)")
    }

    func testCoordinatorThatAcceptsButNeverAnswers() throws {
        let context = try ZMQContext()
        let silent = try ZMQSocket.coordinatorRouter(context, bind: "tcp://127.0.0.1:*")
        let line = try hint(try silent.lastEndpoint)
        XCTAssertTrue(line.contains("has not answered HELLO"), line)
        XCTAssertFalse(line.contains("CURVE"), "both sides are plaintext and the handshake succeeded: \(line)")
        withExtendedLifetime(silent) {}
    }

    func testPlaintextWorkerAndCurveCoordinator() throws {
        let keys = try CurveKeyPair.generate()
        let server = try CoordinatorServer(bind: "tcp://127.0.0.1:*",
                                           curve: CurveServerConfig(keyPair: keys, authorized: AuthorizedKeys([:])))
        let line = try hint(server.endpoint)
        XCTAssertTrue(line.contains("--curve-key W.key --coordinator-key C.pub"), line)
        withExtendedLifetime(server) {}
    }

    func testCurveWorkerWhoseKeyIsNotAuthorized() throws {
        let keys = try CurveKeyPair.generate(), stranger = try CurveKeyPair.generate()
        let server = try CoordinatorServer(bind: "tcp://127.0.0.1:*",
                                           curve: CurveServerConfig(keyPair: keys, authorized: AuthorizedKeys([:])))
        let line = try hint(server.endpoint, curve: CurveClientConfig(keyPair: stranger, serverKey: keys.publicKey))
        XCTAssertTrue(line.contains("--authorized-keys"), line)
        withExtendedLifetime(server) {}
    }
}
