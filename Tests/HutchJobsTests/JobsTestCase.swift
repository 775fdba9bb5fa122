import Foundation
@testable import HutchJobs
import XCTest

/// A private directory per test for the files a job writes, and the repository's files by path.
class JobsTestCase: XCTestCase {
    /// Made on first use, removed when the test ends.
    lazy var directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-\(type(of: self))-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            XCTFail("cannot create \(url.path): \(error)")
        }
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }()

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
