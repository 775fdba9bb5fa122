import XCTest

/// The command-line contract: help, usage errors and their exit codes.
final class CommandLineTests: XCTestCase {
    func testTopLevelHelpListsCommandsAndExitCodes() throws {
        let outcome = try HutchProcess.run(["--help"])
        XCTAssertEqual(outcome.status, 0)
        XCTAssertTrue(outcome.stdout.contains("commands:"))
        XCTAssertTrue(outcome.stdout.contains("exit codes:"))
    }

    func testNoArgumentsIsAUsageError() throws {
        let outcome = try HutchProcess.run([])
        XCTAssertEqual(outcome.status, 2)
    }

    func testUnknownCommandIsAUsageErrorOnOneLine() throws {
        let outcome = try HutchProcess.run(["frobnicate"])
        XCTAssertEqual(outcome.status, 2)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1)
        XCTAssertTrue(outcome.stderr.contains("unknown command 'frobnicate'"))
    }

    func testUnknownFlagIsAUsageError() throws {
        let outcome = try HutchProcess.run(["version", "--bogus"])
        XCTAssertEqual(outcome.status, 2)
        XCTAssertTrue(outcome.stderr.contains("--bogus"))
    }

    func testEveryCommandHasHelp() throws {
        let top = try HutchProcess.run(["--help"]).stdout
        let names = top.components(separatedBy: "commands:\n").last?
            .split(separator: "\n").prefix { $0.hasPrefix("  ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) } ?? []
        XCTAssertFalse(names.isEmpty)
        for name in names {
            let outcome = try HutchProcess.run([name, "--help"])
            XCTAssertEqual(outcome.status, 0, name)
            XCTAssertTrue(outcome.stdout.contains("usage: hutch \(name)"), name)
        }
    }
}
