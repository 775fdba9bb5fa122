import Foundation
import XCTest

/// `--loss` names the head the labels must be for (Protocols/README.md, "Loss"): naming the
/// head the labels choose changes nothing, naming another is one line and exit 5.
final class LossFlagCommandTests: ProcessTestCase {
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testForcingMSEOnFloatTargetsEqualsAuto() throws {
        let flags = ["--model", "Tests/Fixtures/tiny_regressor.onnx", "--data", "Tests/Fixtures/tiny_regressor_ref.npz",
                     "--probes", "4", "--bits", "2,4,8"]
        let auto = try HutchProcess.run(["trace"] + flags + ["--out", path("auto.json")])
        XCTAssertEqual(auto.status, 0, auto.stderr)
        let forced = try HutchProcess.run(["trace"] + flags + ["--loss", "mse", "--out", path("mse.json")])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("mse.json"))), try Data(contentsOf: URL(fileURLWithPath: path("auto.json"))))
    }

    func testForcingAnotherHeadIsRefusedInOneLine() throws {
        let refused = try HutchProcess.run(["trace", "--model", "Tests/Fixtures/tiny_gpt2.onnx", "--data", "Tests/Fixtures/tiny_gpt2_ref.npz",
                                            "--loss", "ce", "--out", path("s.json")])
        XCTAssertEqual(refused.status, 5, refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").filter { $0.contains("error") }.count, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--loss ce does not fit the labels: they are integer token labels [N, 6], which is loss token-ce"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("s.json")))
        let unknown = try HutchProcess.run(["trace", "--loss", "hinge", "--out", path("s.json")])
        XCTAssertEqual(unknown.status, 2, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("--loss must be ce, token-ce, mse, got 'hinge'"), unknown.stderr)
    }
}
