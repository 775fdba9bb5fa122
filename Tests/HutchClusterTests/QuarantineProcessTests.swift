import Foundation
import HutchCluster
import HutchClusterCore
import HutchSensitivity
import HutchWire
import XCTest

/// A real `hutch worker` process whose name is quarantined exits with a clear one-line message and
/// the cluster exit code, instead of reconnecting forever.
final class QuarantineProcessTests: XCTestCase {
    /// The `hutch` executable next to the test bundle (same build configuration).
    static var hutch: URL {
        let bundle = Bundle(for: QuarantineProcessTests.self).bundleURL
        let products = bundle.pathExtension == "xctest" ? bundle.deletingLastPathComponent() : bundle
        return products.appendingPathComponent("hutch")
    }

    func testAQuarantinedWorkerProcessExitsWithTheReason() throws {
        let job = try SensitivityJob(method: .exact, samples: 40, batchSize: 2, layerCount: 3)
        var options = TraceOptions()
        options.method = .exact
        let spec = SensitivityWorkSpec(job: job, source: ModelSource(modelPath: "none"), probesPerCall: 1)
        var core = CoordinatorCore(config: CoordinatorConfig(epoch: 5), spec: spec, options: options, workers: 1)
        // a process named "victim" sent three malformed messages: quarantined, name and all
        let impostor: [UInt8] = Array("imp".utf8)
        _ = core.handle(.message(peer: impostor, .hello(Hello(capabilities: [.sensitivity], instance: 1, name: "victim", threads: 1, credit: 1))), now: 0)
        for t in 1...3 as ClosedRange<UInt64> { _ = core.handle(.malformed(peer: impostor, .nonFinite(.result, field: "values", index: 0)), now: t) }
        XCTAssertEqual(core.quarantine.names, ["victim"])

        let server = try CoordinatorServer(bind: "tcp://127.0.0.1:*")
        let process = Process()
        process.executableURL = Self.hutch
        process.arguments = ["worker", "--connect", server.endpoint, "--name", "victim", "--threads", "1"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var logs: [String] = []
        let outcome = try server.run(&core, log: { logs.append($0) }, abandon: {
            !process.isRunning ? "the worker exited" : Date() > deadline ? "timeout" : nil
        })
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard case .failed(let why) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(why, "the worker exited", stderr)
        XCTAssertEqual(process.terminationStatus, 8, stderr)
        let error = stderr.split(separator: "\n").filter { $0.hasPrefix("hutch: error:") }
        XCTAssertEqual(error.count, 1, stderr)
        XCTAssertTrue(error.first?.contains("quarantined") ?? false, stderr)
        XCTAssertTrue(logs.contains { $0.contains("refused HELLO from quarantined worker victim") }, "\(logs)")
    }
}
