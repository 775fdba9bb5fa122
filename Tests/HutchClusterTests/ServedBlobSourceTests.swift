import Foundation
import HutchCluster
@testable import HutchClusterCore
import HutchModel
import HutchWire
import XCTest

/// The coordinator serves model and data blobs by reading its ServedBlobSource one chunk per
/// BLOB_REQUEST, at the request's offset; it holds no served blob itself.
extension BlobTransferTests {
    /// A memory source that records every read asked of it.
    struct RecordingSource: ServedBlobSource {
        final class Log: @unchecked Sendable { var reads: [(WireDigest, UInt64, Int)] = [] }
        let memory: MemoryBlobSource
        let log = Log()
        /// Bytes cut from the end of every read (a file that shrank under the job).
        var shortBy = 0
        var digests: [WireDigest] { memory.digests }
        func size(_ digest: WireDigest) -> UInt64? { memory.size(digest) }
        func read(_ digest: WireDigest, offset: UInt64, length: Int) throws -> [UInt8] {
            log.reads.append((digest, offset, length))
            return Array(try memory.read(digest, offset: offset, length: length).dropLast(shortBy))
        }
    }

    func testServingReadsTheSourceByOffsetOneChunkAtATime() throws {
        let chunk = Int(WireLimits.defaultChunkBytes)
        let (d, b) = blob(chunk * 13 + 17, seed: 11)   // 14 chunks: more than the window
        let source = RecordingSource(memory: MemoryBlobSource([d: b]))
        var p = try makePair(served: source)
        exchange(&p)
        XCTAssertEqual(p.computed.count, 1, "the task runs once the blob is here")
        XCTAssertEqual((p.worker.fetched as? MemoryBlobStore)?.blobs[d], b, "the same bytes as before: the wire is unchanged")
        let reads = source.log.reads
        XCTAssertEqual(reads.map(\.1).sorted(), (0..<14).map { UInt64($0 * chunk) }, "one read per chunk, at its offset")
        XCTAssertEqual(reads.map(\.2).sorted(), [17] + Array(repeating: chunk, count: 13), "never more than a chunk, never past the end")
        XCTAssertTrue(reads.allSatisfy { $0.0 == d })

        // a request for far more than a chunk still reads one chunk
        source.log.reads = []
        let replies = p.coordinator.handle(.message(peer: [7], .blobRequest(BlobRequest(digest: d, offset: 5, length: .max))), now: 20_000)
        XCTAssertEqual(source.log.reads.map(\.2), [chunk])
        guard case .send(_, .blobChunk(let c))? = replies.first(where: { if case .send(_, .blobChunk) = $0 { true } else { false } }) else {
            return XCTFail("\(replies)")
        }
        XCTAssertEqual(c.data, Array(b[5..<(5 + chunk)]))
        XCTAssertEqual(c.totalBytes, UInt64(b.count))
    }

    /// A served file that shrank under the job: that request draws a one-line ERROR (and a log
    /// line at the coordinator), never a short chunk; the job goes on.
    func testAShortReadIsAnErrorForThatRequestOnly() throws {
        let (d, b) = blob(1000, seed: 12)
        var source = RecordingSource(memory: MemoryBlobSource([d: b]))
        source.shortBy = 1
        var core = try makePair(served: source).coordinator
        _ = core.handle(.message(peer: [7], .hello(Hello(capabilities: [.sensitivity], instance: 1, name: "w", threads: 1, credit: 0))), now: 1)
        let replies = core.handle(.message(peer: [7], .blobRequest(BlobRequest(digest: d, offset: 100, length: 500))), now: 2)
        guard case .send(_, .error(let e))? = replies.first(where: { if case .send(_, .error) = $0 { true } else { false } }) else {
            return XCTFail("\(replies)")
        }
        XCTAssertEqual(e.command, WireCommand.blobRequest.rawValue)
        XCTAssertEqual(e.digest, d, "the ERROR names the blob, so the requester knows which fetch failed")
        XCTAssertEqual(e.message, "blob \(d) changed since the job started: 499 of 500 bytes at offset 100 could be read")
        XCTAssertFalse(e.message.contains("\n"))
        XCTAssertTrue(replies.contains { if case .log(let line) = $0 { line.contains("499 of 500") } else { false } }, "\(replies)")
        XCTAssertFalse(replies.contains { if case .send(_, .blobChunk) = $0 { true } else { false } })
        XCTAssertFalse(core.finished)
    }

    /// The worker that fetches a blob the coordinator can no longer read in full fails the
    /// task that needs it (retryable, naming the blob) instead of asking again until the lease
    /// expires; every lease fails the same way, so the job ends with that line.
    func testAWorkerFailsTheTaskWhoseBlobCannotBeServed() throws {
        let (d, b) = blob(Int(WireLimits.defaultChunkBytes) * 3, seed: 14)
        var source = RecordingSource(memory: MemoryBlobSource([d: b]))
        source.shortBy = 1
        var p = try makePair(served: source)
        exchange(&p)
        XCTAssertTrue(p.computed.isEmpty)
        let failures = p.sentToCoordinator.compactMap { if case .failure(let f) = $0 { f } else { nil } }
        XCTAssertFalse(failures.isEmpty, "\(p.sentToCoordinator)")
        XCTAssertTrue(failures.allSatisfy { $0.failureClass == .retryable && $0.message.hasPrefix("the coordinator cannot serve blob \(d): ") },
                      "\(failures)")
        XCTAssertEqual(p.worker.fetches[d] == nil, true, "the fetch is dropped")
        XCTAssertTrue(p.coordinator.finished, "bounded: the failures end the job")
    }

    /// The coordinator process's source: the files themselves, digest streamed when added, read
    /// at the request's offset; the same bytes reach the worker as from memory.
    func testServedFilesAreReadFromDiskAndShrinkingIsAnError() throws {
        let chunk = Int(WireLimits.defaultChunkBytes)
        let (d, b) = blob(chunk * 2 + 300, seed: 13)
        let path = NSTemporaryDirectory() + "/hutch-served-\(getpid())-\(UUID().uuidString)"
        try Data(b).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var files = ServedBlobFiles()
        XCTAssertEqual(try files.add(path), d.description, "the streamed digest is the digest of the bytes")
        XCTAssertEqual(files.size(d), UInt64(b.count))
        XCTAssertEqual(files.digests, [d])
        var p = try makePair(served: files)
        exchange(&p)
        XCTAssertEqual((p.worker.fetched as? MemoryBlobStore)?.blobs[d], b)
        XCTAssertEqual(p.computed.count, 1)

        // removed under the job: still served as it was (the file is held open)
        let moved = path + ".moved"
        try FileManager.default.moveItem(atPath: path, toPath: moved)
        defer { try? FileManager.default.removeItem(atPath: moved) }
        XCTAssertEqual(try files.read(d, offset: UInt64(chunk), length: 100), Array(b[chunk..<(chunk + 100)]))
        // shrunk in place under the job: a request past its new end is a one-line ERROR
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: moved))
        try handle.truncate(atOffset: UInt64(chunk))
        try handle.close()
        let replies = p.coordinator.handle(.message(peer: [7], .blobRequest(BlobRequest(digest: d, offset: UInt64(chunk), length: 100))), now: 20_000)
        XCTAssertTrue(replies.contains { if case .send(_, .error(let e)) = $0 { e.message.contains("0 of 100 bytes") } else { false } }, "\(replies)")
        var none = ServedBlobFiles()
        XCTAssertThrowsError(try none.add(path + ".missing")) { XCTAssertTrue("\($0)".contains(".missing"), "\($0)") }
    }
}
