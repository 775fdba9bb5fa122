import Foundation
import HutchClusterCore
import HutchModel
import HutchWire
import XCTest
@testable import HutchCluster

/// A worker's produced RESULT blobs on disk (DirectoryBlobStore) read back as the in-memory store
/// reads them, chunk by chunk; a store that cannot keep a blob makes the task fail, retryably.
final class ProducedBlobStoreTests: XCTestCase {
    let blob: [UInt8] = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    var digest: WireDigest { WireDigest(Digest.sha256(blob))! }

    func testDirectoryAndMemoryStoresReadTheSameRanges() throws {
        let disk = try DirectoryBlobStore.temporary()
        defer { disk.remove() }
        var memory = MemoryBlobStore()
        try disk.put(digest, blob)
        memory.put(digest, blob)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk.directory).filter { !$0.hasPrefix(".") },
                       [String(digest.description.dropFirst("sha256:".count))], "one file, named by the digest")
        for (offset, length) in [(0, 256), (256, 256), (900, 256), (1000, 10), (2000, 10), (0, UInt64.max)] as [(UInt64, UInt64)] {
            let a = try XCTUnwrap(disk.read(digest, offset: offset, length: length), "\(offset)")
            let b = try XCTUnwrap(memory.read(digest, offset: offset, length: length), "\(offset)")
            XCTAssertEqual(a.total, 1000)
            XCTAssertEqual(a.total, b.total)
            XCTAssertEqual(a.bytes, b.bytes, "offset \(offset) length \(length)")
        }
        XCTAssertEqual(disk.read(digest, offset: 900, length: 256)?.bytes, Array(blob[900...]))
        XCTAssertEqual(disk.bytes(digest), blob)
        let other = WireDigest(Digest.sha256([1, 2, 3]))!
        XCTAssertNil(disk.read(other, offset: 0, length: 1), "not held")
        XCTAssertNil(memory.read(other, offset: 0, length: 1))
        disk.remove()
        XCTAssertFalse(FileManager.default.fileExists(atPath: disk.directory))
    }

    /// A worker killed before it could remove its directory (SIGKILL, the OOM killer) leaves it
    /// to the next worker's `temporary()`, which removes only directories whose lock nobody holds.
    func testTheNextWorkerRemovesADeadWorkersDirectoryOnly() throws {
        let live = try DirectoryBlobStore.temporary()
        defer { live.remove() }
        let dead = try DirectoryBlobStore.temporary()
        try dead.put(digest, blob)
        dead.lock?.release()   // as the kernel does for a killed process; the files stay
        let unlocked = NSTemporaryDirectory() + "/hutch-produced-unlockedtest"   // mid-creation: no lock file yet
        try FileManager.default.createDirectory(atPath: unlocked, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: unlocked) }
        // a process that died while making its directory, two hours ago; and one making it now
        let stale = NSTemporaryDirectory() + "/hutch-producing-staletest", fresh = NSTemporaryDirectory() + "/hutch-producing-freshtest"
        for path in [stale, fresh] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        defer { for path in [stale, fresh] { try? FileManager.default.removeItem(atPath: path) } }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: stale)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dead.directory))
        let next = try DirectoryBlobStore.temporary()
        defer { next.remove() }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead.directory), "the dead worker's blobs are removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.directory), "a live worker's directory stays")
        XCTAssertTrue(FileManager.default.fileExists(atPath: unlocked), "a directory without a lock file stays")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "an hour-old directory still being made is removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh), "one being made now stays")
        XCTAssertTrue(live.directory.hasPrefix(NSTemporaryDirectory() + "/hutch-produced-"), live.directory)
    }

    func testAStoreThatCannotWriteSaysWhereInOneLine() {
        let missing = DirectoryBlobStore(directory: "/nonexistent-hutch-dir/produced")
        XCTAssertThrowsError(try missing.put(digest, blob)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("cannot write '/nonexistent-hutch-dir/produced/"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
    }

    /// The worker core with a store that cannot write: FAILURE(retryable) naming why, no RESULT.
    func testAWorkerWhoseStoreFailsGivesTheTaskBack() throws {
        var config = WorkerConfig(name: "w", instance: 2)
        config.inlineResultBytes = 100
        var worker = WorkerCore(config: config, produced: DirectoryBlobStore(directory: "/nonexistent-hutch-dir/produced"))
        _ = worker.handle(.tick, now: 0)
        let job = try XCTUnwrap(WireDigest(bytes: Array(repeating: 3, count: 32)))
        _ = worker.handle(.message(.welcome(Welcome(job: job, epoch: 1, maxCredit: 4))), now: 1)
        let task = TaskAssignment(taskID: 5, leaseID: 9, leaseMs: 1000, kind: .quantize, blobs: [],
                                  body: QuantizeBodies.taskBody(layer: 0, spec: Array("{}".utf8)))
        _ = worker.handle(.message(.task(task)), now: 2)
        let sent = worker.handle(.computed(taskID: 5, leaseID: 9, .quantized(body: blob)), now: 3)
        XCTAssertFalse(sent.contains { if case .send(.result) = $0 { true } else { false } }, "\(sent)")
        guard case .send(.failure(let f))? = sent.first(where: { if case .send(.failure) = $0 { true } else { false } }) else {
            return XCTFail("no FAILURE: \(sent)")
        }
        XCTAssertEqual(f.failureClass, .retryable)
        XCTAssertTrue(f.message.hasPrefix("cannot keep the result blob: cannot write '/nonexistent-hutch-dir/produced/"), f.message)
    }
}
