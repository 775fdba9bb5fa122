import XCTest
@testable import HutchSensitivity

/// How `--memory` sets Hutchinson's chunks in flight and, when one chunk does not fit, its probes
/// per call (`HutchinsonChunkPlan.choose`, Protocols/README.md "Memory").
final class HutchinsonChunkPlanTests: XCTestCase {
    /// A call at k probes: 100 + 10k bytes fixed, 50 + 20k a chunk.
    func plan(memory: Int, k: Int = 4, threads: Int = 4, batch: Int = 64) -> HutchinsonChunkPlan? {
        HutchinsonChunkPlan.choose(memory: memory, batch: batch, probesPerCall: k, threads: threads,
                                   fixedBytes: { 100 + 10 * $0 }, chunkBytes: { 50 + 20 * $0 }, unpooledBytes: { 60 + $0 })
    }

    func testChunksInFlightAreWhatFitsBetweenOneAndTheThreads() {
        // k = 4: 140 fixed, 130 a chunk
        XCTAssertEqual(plan(memory: 10_000)?.chunksInFlight, 4, "at most one chunk per thread")
        XCTAssertEqual(plan(memory: 10_000, threads: 2)?.chunksInFlight, 2)
        XCTAssertEqual(plan(memory: 140 + 3 * 130)?.chunksInFlight, 3)
        XCTAssertEqual(plan(memory: 140 + 3 * 130 - 1)?.chunksInFlight, 2)
        XCTAssertEqual(plan(memory: 140 + 130), HutchinsonChunkPlan(probesPerCall: 4, chunksInFlight: 1, chunkExamples: 8, chunkBytes: 130, fixedBytes: 140,
                                                                    poolLimitBytes: 270 - 64))
        XCTAssertEqual(plan(memory: 140 + 130)?.boundBytes, 270)
    }

    func testProbesPerCallDropOnlyWhenNotOneChunkFits() {
        // k = 3: 130 + 110 = 240; k = 1: 110 + 70 = 180
        XCTAssertEqual(plan(memory: 269).map { [$0.probesPerCall, $0.chunksInFlight] }, [3, 1])
        XCTAssertEqual(plan(memory: 240).map { [$0.probesPerCall, $0.chunksInFlight] }, [3, 1])
        XCTAssertEqual(plan(memory: 180).map { [$0.probesPerCall, $0.chunksInFlight, $0.poolLimitBytes] }, [1, 1, 180 - 61],
                       "the pool gets the budget less the unpooled bytes at the probes per call chosen")
        XCTAssertNil(plan(memory: 179), "not one chunk at one probe per call")
        XCTAssertNil(plan(memory: -5))
    }

    /// A batch smaller than a chunk is one chunk of its own size, and no more chunks run at once
    /// than the batch has: the plan and its log line say what runs.
    func testSmallBatchesRunAsFewChunksAsTheyHave() throws {
        let four = try XCTUnwrap(plan(memory: 10_000, batch: 4))
        XCTAssertEqual([four.chunksInFlight, four.chunkExamples], [1, 4])
        XCTAssertTrue(four.summary.hasPrefix("Hutchinson runs 1 chunk(s) of 4 example(s) at once at 4 probe(s) per call"), four.summary)
        XCTAssertEqual(plan(memory: 10_000, batch: 12).map { [$0.chunksInFlight, $0.chunkExamples] }, [2, 8])
        XCTAssertEqual(plan(memory: 10_000, batch: 17).map { [$0.chunksInFlight, $0.chunkExamples] }, [3, 8])
        let unbounded = HutchinsonChunkPlan.unbounded(batch: 8, probesPerCall: 4, threads: 2, fixedBytes: 140, chunkBytes: 130)
        XCTAssertEqual([unbounded.chunksInFlight, unbounded.chunkExamples, unbounded.boundBytes], [1, 8, 270])
        XCTAssertNil(unbounded.poolLimitBytes)
        XCTAssertEqual(HutchinsonChunkPlan.unbounded(batch: 32, probesPerCall: 4, threads: 2, fixedBytes: 140, chunkBytes: 130).chunksInFlight, 2)
    }

    /// The --memory a plan with several chunks in flight names runs exactly one chunk, also where
    /// fixed + chunk falls on a whole MB (the parser's Int(GB * 1e9) must not come out a byte
    /// short); a chunk too small for a whole MB to fit just one gets no hint.
    func testTheNamedMemoryRunsOneChunk() throws {
        for (fixed, chunk) in [(2_500_000_000, 1_500_000_000), (538_612_345, 2_345_678), (1_000_000, 1_000_001)] {
            let unbounded = HutchinsonChunkPlan.unbounded(batch: 32, probesPerCall: 4, threads: 2, fixedBytes: fixed, chunkBytes: chunk)
            let gb = try XCTUnwrap(unbounded.oneChunkMemoryGB, "\(fixed), \(chunk)")
            XCTAssertTrue(unbounded.summary.hasSuffix(String(format: "; --memory %.3f would run one chunk at a time", gb)), unbounded.summary)
            let bounded = HutchinsonChunkPlan.choose(memory: Int(gb * 1e9), batch: 32, probesPerCall: 4, threads: 2,
                                                     fixedBytes: { _ in fixed }, chunkBytes: { _ in chunk })
            XCTAssertEqual(bounded.map { [$0.chunksInFlight, $0.probesPerCall] }, [1, 4], "\(fixed), \(chunk): \(gb) GB")
            XCTAssertFalse(try XCTUnwrap(bounded).summary.contains("would run"))
        }
        let tiny = HutchinsonChunkPlan.unbounded(batch: 32, probesPerCall: 4, threads: 2, fixedBytes: 500_000_000, chunkBytes: 500_000)
        XCTAssertNil(tiny.oneChunkMemoryGB)
        XCTAssertFalse(tiny.summary.contains("would run"), tiny.summary)
    }
}
