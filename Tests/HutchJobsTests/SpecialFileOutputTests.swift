import Foundation
@testable import HutchJobs
import XCTest

/// An output that names a device or pipe (`--out /dev/null`) is written in place: renaming a
/// temporary over it would replace the device with a regular file. A named pipe stands in for
/// /dev/null here, so a failure cannot damage the machine.
final class SpecialFileOutputTests: JobsTestCase {
    /// Makes a pipe at `name` and reads it on another thread until the writer closes it.
    private func pipeReader(_ name: String) throws -> (path: String, read: () -> [UInt8]) {
        let fifo = path(name)
        XCTAssertEqual(mkfifo(fifo, 0o600), 0, String(cString: strerror(errno)))
        let reader = PipeReader()
        Thread.detachNewThread {
            if let handle = FileHandle(forReadingAtPath: fifo) { reader.received = [UInt8](handle.readDataToEndOfFile()) }
            reader.done.signal()
        }
        // the semaphore orders the reader's write before this read
        return (fifo, { XCTAssertEqual(reader.done.wait(timeout: .now() + 20), .success); return reader.received })
    }

    private func assertStillAPipe(_ fifo: String, file: StaticString = #filePath, line: UInt = #line) {
        var info = stat()
        XCTAssertEqual(stat(fifo, &info), 0, file: file, line: line)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO, "the pipe was replaced by a regular file", file: file, line: line)
    }

    func testWriteAtomicallyWritesIntoAPipeWithoutReplacingIt() throws {
        let (fifo, read) = try pipeReader("out.fifo")
        try writeAtomically(Data("sensitivity".utf8), to: fifo)
        XCTAssertEqual(read(), Array("sensitivity".utf8))
        assertStillAPipe(fifo)
    }

    func testAllOrNothingWritesRegularFilesAndAPipe() throws {
        let (fifo, read) = try pipeReader("model.fifo")
        try writeAllOrNothing([(path("plan.json"), Data("plan".utf8)), (fifo, Data("model".utf8))])
        XCTAssertEqual(read(), Array("model".utf8))
        XCTAssertEqual(try bytes(path("plan.json")), Array("plan".utf8))
        assertStillAPipe(fifo)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)), ["plan.json", "model.fifo"])
    }

    func testARegularFileIsNotSpecial() throws {
        try writeAtomically(Data("x".utf8), to: path("regular"))
        XCTAssertFalse(isSpecialFile(path("regular")))
        XCTAssertFalse(isSpecialFile(path("missing")))
        XCTAssertFalse(isSpecialFile(directory.path))
    }
}

private final class PipeReader: @unchecked Sendable {
    var received: [UInt8] = []
    let done = DispatchSemaphore(value: 0)
}
