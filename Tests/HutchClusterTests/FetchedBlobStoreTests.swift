import Foundation
import HutchCluster
@testable import HutchClusterCore
import HutchModel
import HutchWire
import XCTest

/// A `--fetch-blobs` worker writes each chunk to its FetchedBlobStore as it arrives and holds no
/// blob bytes itself; the digest is checked after the last chunk; the directory store keeps only
/// verified blobs under their digest.
extension BlobTransferTests {
    /// A memory store that records every chunk written to it.
    struct Recording: FetchedBlobStore {
        final class Log: @unchecked Sendable { var writes: [(WireDigest, UInt64, Int)] = []; var discarded = 0 }
        var memory = MemoryBlobStore()
        let log = Log()
        func holds(_ digest: WireDigest) -> Bool { memory.holds(digest) }
        func location(_ digest: WireDigest) -> String { memory.location(digest) }
        mutating func begin(_ digest: WireDigest) { memory.begin(digest) }
        mutating func write(_ digest: WireDigest, offset: UInt64, _ bytes: [UInt8]) {
            log.writes.append((digest, offset, bytes.count))
            memory.write(digest, offset: offset, bytes)
        }
        mutating func finish(_ digest: WireDigest) -> Bool { memory.finish(digest) }
        mutating func discard(_ digest: WireDigest) { log.discarded += 1; memory.discard(digest) }
    }

    func pair(_ blobs: [WireDigest: [UInt8]], store: any FetchedBlobStore) throws -> Pair {
        var pair = try makePair(blobs: blobs)
        pair.worker = WorkerCore(config: pair.worker.config, fetched: store)
        return pair
    }

    func testEveryChunkGoesToTheStoreAndTheCoreKeepsNoBytes() throws {
        let chunk = Int(WireLimits.defaultChunkBytes)
        let (d, b) = blob(chunk * 13 + 17, seed: 5)   // 14 chunks: more than the window
        let store = Recording()
        var p = try pair([d: b], store: store)
        var largestHeld = 0
        exchange(&p, observe: { worker in
            largestHeld = max(largestHeld, worker.fetches.values.map { $0.assembly.data.count }.max() ?? 0)
        })
        XCTAssertEqual(p.computed.count, 1, "the task runs once the blob is held")
        XCTAssertEqual(p.computed.first?.blobs, [d: d.description], "the task names where the store holds the blob")
        let writes = store.log.writes
        XCTAssertEqual(writes.count, 14)
        XCTAssertEqual(writes.map(\.1).sorted(), (0..<14).map { UInt64($0 * chunk) }, "each chunk written once, at its offset")
        XCTAssertTrue(writes.allSatisfy { $0.0 == d && $0.2 <= chunk })
        XCTAssertEqual(largestHeld, 0, "the core assembled no bytes while the chunks arrived")
        XCTAssertTrue(p.worker.fetches.isEmpty)
        XCTAssertTrue(p.worker.fetched.holds(d))
        XCTAssertEqual((p.worker.fetched as? Recording)?.memory.blobs[d], b)
    }

    /// wire.md 5.5: a blob that fails its digest is discarded and fetched again, three times in
    /// all, then the task fails retryably; nothing of it is held.
    func testADigestMismatchDiscardsTheBlobRefetchesThenFails() throws {
        let (d, b) = blob(1000, seed: 6)
        let store = Recording()
        var p = try pair([d: b], store: store)
        exchange(&p, tamper: { $0.data = $0.data.map { $0 ^ 1 } })
        XCTAssertTrue(p.computed.isEmpty)
        // each lease of the task fetches the one-chunk blob three times, then fails (the coordinator
        // leases it again, a bounded number of times)
        let failures = p.sentToCoordinator.filter { if case .failure = $0 { true } else { false } }.count
        XCTAssertGreaterThan(failures, 0)
        XCTAssertEqual(store.log.writes.count, 3 * failures, "three fetches per lease")
        XCTAssertEqual(store.log.discarded, 3 * failures, "every mismatched copy discarded")
        XCTAssertFalse(p.worker.fetched.holds(d))
        XCTAssertEqual((p.worker.fetched as? Recording)?.memory.partial.isEmpty, true, "no partial blob left")
        XCTAssertTrue(p.sentToCoordinator.contains { if case .failure(let f) = $0 { f.message.contains("does not match its digest (3 times)") } else { false } })
    }

    /// The directory store: chunks in any order, renamed to the digest only when they match;
    /// a store that cannot write fails the task in one line.
    func testTheDirectoryStoreKeepsOnlyVerifiedBlobs() throws {
        let dir = try DirectoryBlobStore.temporary()
        defer { dir.remove() }
        let store = dir
        let (d, b) = blob(70_000, seed: 7)
        try store.begin(d)
        for offset in stride(from: 0, to: b.count, by: 16_384).reversed() {
            try store.write(d, offset: UInt64(offset), Array(b[offset..<min(b.count, offset + 16_384)]))
        }
        XCTAssertFalse(store.holds(d), "a partial blob is not held")
        XCTAssertTrue(try store.finish(d))
        XCTAssertTrue(store.holds(d))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.directory).filter { !$0.hasPrefix(".") }, [String(d.description.dropFirst(7))])
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: store.location(d)))), b)
        let (e, c) = blob(5_000, seed: 8)
        try store.begin(e)
        try store.write(e, offset: 0, c.map { $0 ^ 1 })
        XCTAssertFalse(try store.finish(e))
        XCTAssertFalse(store.holds(e))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.directory).filter { !$0.hasPrefix(".") }.count, 1, "the bad blob is removed")

        let missing = DirectoryBlobStore(directory: "/nonexistent-hutch-dir/fetched")
        XCTAssertThrowsError(try missing.begin(d)) { XCTAssertFalse("\($0)".contains("\n")) }
        var p = try pair([d: b], store: missing)
        exchange(&p)
        XCTAssertTrue(p.computed.isEmpty)
        XCTAssertTrue(p.sentToCoordinator.contains { if case .failure(let f) = $0 { f.message.hasPrefix("cannot keep blob \(d): cannot create '/nonexistent-hutch-dir/fetched/") } else { false } },
                      "\(p.sentToCoordinator)")
    }

    /// Opening a cache directory removes partial blobs and blobs that no longer match their digest.
    func testOpeningTheCacheDropsPartialAndDamagedBlobs() throws {
        let dir = try DirectoryBlobStore.temporary()
        defer { dir.remove() }
        let (d, b) = blob(3_000, seed: 9), (e, c) = blob(3_000, seed: 10)
        try dir.put(d, b)
        try dir.put(e, c.map { $0 ^ 1 })
        try Data([1, 2]).write(to: URL(fileURLWithPath: dir.location(d) + ".partial"))
        var logged: [String] = []
        let store = try BlobCache.open(dir.directory, log: { logged.append($0) })
        XCTAssertTrue(store.holds(d))
        XCTAssertFalse(store.holds(e))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.directory).filter { !$0.hasPrefix(".") }, [String(d.description.dropFirst(7))])
        XCTAssertEqual(logged, ["cache: \(dir.location(e)) does not match its digest; removed"])
    }
}
