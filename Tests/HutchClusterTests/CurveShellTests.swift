import Foundation
import HutchCluster
import HutchClusterCore
import HutchSensitivity
import XCTest

/// CoordinatorServer and WorkerClient with CURVE on loopback: the authorized worker does the
/// whole job, an unauthorized one and a plaintext one never join, and the refusals are logged.
final class CurveShellTests: XCTestCase {
    func testOnlyTheAuthorizedWorkerJoins() throws {
        let job = try SensitivityJob(method: .exact, samples: 20, batchSize: 2, layerCount: 3)
        var options = TraceOptions()
        options.method = .exact
        let spec = SensitivityWorkSpec(job: job, source: ModelSource(modelPath: "none"), probesPerCall: 1)
        var core = CoordinatorCore(config: CoordinatorConfig(epoch: 9), spec: spec, options: options, workers: 1, tasksPerWorker: 5)
        let coordinatorKeys = try CurveKeyPair.generate()
        let worker = try CurveKeyPair.generate(), stranger = try CurveKeyPair.generate()
        let refusals = ZAPHandlerTests.Lines()
        let server = try CoordinatorServer(bind: "tcp://127.0.0.1:*",
                                           curve: CurveServerConfig(keyPair: coordinatorKeys,
                                                                    authorized: AuthorizedKeys([worker.publicKey: "trusted-key"])),
                                           securityLog: { refusals.append($0) })
        let endpoint = server.endpoint
        let deadline = Date().addingTimeInterval(30)
        let completed = Counter()
        let clients: [(String, CurveClientConfig?)] = [
            ("intruder", CurveClientConfig(keyPair: stranger, serverKey: coordinatorKeys.publicKey)),
            ("plaintext", nil),
            ("trusted", CurveClientConfig(keyPair: worker, serverKey: coordinatorKeys.publicKey)),
        ]
        for (index, (name, curve)) in clients.enumerated() {
            let thread = Thread {
                var core = WorkerCore(config: WorkerConfig(name: name, instance: UInt64(100 + index)))
                let client = WorkerClient(connect: endpoint, curve: curve) { ShellLoopbackTests.zeros($0, job) }
                // the refused ones never hear a word; they give up when the job is over
                client.orphaned = { Date() > deadline || (name != "trusted" && completed.value > 0) }
                do { try client.run(&core, log: { _ in }) } catch {}
                if name == "trusted" && core.completed > 0 { completed.add() }
            }
            thread.start()
        }
        var log: [String] = []
        let outcome = try server.run(&core, log: { log.append($0) }, abandon: { Date() > deadline ? "timeout" : nil })
        guard case .sensitivity = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(core.tasksDone, 5)
        XCTAssertTrue(log.contains { $0.contains("trusted joined") }, "\(log)")
        XCTAssertTrue(log.contains { $0.contains("worker trusted authenticated with the CURVE key named 'trusted-key'") }, "\(log)")
        XCTAssertFalse(log.contains { $0.contains("intruder") || $0.contains("plaintext") }, "\(log)")
        XCTAssertTrue(refusals.all.contains { $0.contains("refused CURVE key \(stranger.publicKey.z85)") }, "\(refusals.all)")
        XCTAssertTrue(refusals.all.contains { $0.contains("refused a connection on \(endpoint): ") }, "\(refusals.all)")
        XCTAssertGreaterThanOrEqual(server.refusedConnections, 2)
    }
}
