import Foundation
@testable import HutchJobs
import XCTest

/// A private directory per test for the files a job writes, and the repository's files by path.
class JobsTestCase: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-\(type(of: self))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// `name` in the test's directory.
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A file of the repository, e.g. "Examples/digits.npz", found from this source file.
    func repository(_ relative: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(relative).path
    }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Asserts that `body` throws an error that `hutch` reports with `code` and a message containing `text`.
    func assertFails<T>(_ code: ExitCode, _ text: String, file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> T) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let failure = describe(error)
            XCTAssertEqual(failure.code, code, failure.message, file: file, line: line)
            XCTAssertTrue(failure.message.contains(text), failure.message, file: file, line: line)
        }
    }
}
