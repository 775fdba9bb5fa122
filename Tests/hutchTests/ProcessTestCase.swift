import Foundation
import XCTest

/// Tests that run `hutch` processes side by side (coordinator, workers): a private directory for
/// their logs and outputs, and every child killed at the end, whatever the test did.
class ProcessTestCase: XCTestCase {
    var directory: URL!
    var children: [Process] = []

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-\(type(of: self))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) }
        for child in children { child.waitUntilExit() }
        children = []
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts `hutch ARGS` with stderr appended to NAME.err in the test directory (a restarted
    /// process under the same name continues its log) and stdout discarded.
    func start(_ arguments: [String], log name: String, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = HutchProcess.executable
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.currentDirectoryURL = HutchProcess.repositoryRoot
        let err = directory.appendingPathComponent("\(name).err")
        if !FileManager.default.fileExists(atPath: err.path) { _ = FileManager.default.createFile(atPath: err.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: err)
        handle.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        children.append(process)
        return process
    }

    /// What the process started under `name` has written to stderr so far.
    func stderr(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(name).err"), encoding: .utf8)) ?? ""
    }

    /// Waits for the process to exit within `seconds`; kills it and fails otherwise.
    func wait(_ process: Process, _ seconds: Double, _ what: String) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTFail("\(what) did not finish within \(seconds) s")
            return nil
        }
        return process.terminationStatus
    }

    /// Polls `condition` until true or `seconds` pass.
    func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { if condition() { return true }; usleep(10_000) }
        return condition()
    }

    /// The endpoint a coordinator started under `log` announces ("workers connect to E"), within
    /// 30 s; nil (and a failure) if it does not.
    func announcedEndpoint(_ log: String = "coordinator", file: StaticString = #filePath, line: UInt = #line) -> String? {
        var endpoint: String?
        let announced = eventually(30) {
            guard let range = stderr(log).range(of: "workers connect to ") else { return false }
            endpoint = stderr(log)[range.upperBound...].split(separator: "\n").first.map(String.init)
            return endpoint != nil
        }
        if !announced { XCTFail("the coordinator did not report its endpoint: \(stderr(log))", file: file, line: line) }
        return endpoint
    }
}
