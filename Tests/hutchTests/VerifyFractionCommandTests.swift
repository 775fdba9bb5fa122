import Foundation
import XCTest

/// `hutch run --verify-fraction F`: every sampled task runs on two workers and counts only when
/// both agree; the output stays byte-identical to `hutch trace`. Bad values are usage errors.
final class VerifyFractionCommandTests: XCTestCase {
    func testVerifiedRunMatchesTraceAndBadValuesAreUsageErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-verify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let flags = ["--samples", "64", "--batch-size", "16"]
        let trace = directory.appendingPathComponent("trace.json")
        let traced = try HutchProcess.run(["trace"] + flags + ["--out", trace.path])
        XCTAssertEqual(traced.status, 0, traced.stderr)

        let out = directory.appendingPathComponent("run")
        let run = try HutchProcess.run(["run", "--workers", "3", "--threads", "1", "--verify-fraction", "1"] + flags + ["--out", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("sensitivity.json")), try Data(contentsOf: trace))

        for (args, message) in [(["--workers", "1", "--verify-fraction", "0.5"], "needs at least 2 workers"),
                                (["--workers", "2", "--verify-fraction", "1.5"], "between 0 and 1")] {
            let bad = try HutchProcess.run(["run"] + args + flags + ["--out", directory.appendingPathComponent("bad").path])
            XCTAssertEqual(bad.status, 2, bad.stderr)
            XCTAssertTrue(bad.stderr.contains(message), bad.stderr)
            XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, "one line: \(bad.stderr)")
        }
    }
}
