import Foundation
import HutchAutodiff

/// How `--memory` bounds a Hutchinson call (Protocols/README.md, "Memory"): the chunks of up to
/// 8 examples it runs at once, and its probes per call when one chunk at the asked count does not
/// fit. Neither changes a bit: chunk results are added in chunk order, and each probe's forms are
/// the same whatever probes share its call.
public struct HutchinsonChunkPlan: Sendable, Equatable {
    public var probesPerCall: Int
    /// At most one per thread and no more than the batch has chunks.
    public var chunksInFlight: Int
    /// Examples in a chunk: `Executor.quadraticFormChunk`, or the whole batch when smaller.
    public var chunkExamples: Int
    /// One chunk's bound at `probesPerCall` (`Executor.quadraticFormChunkBytes`).
    public var chunkBytes: Int
    /// What a call holds besides its chunks (`MemoryBudget.hutchinsonFixedBytes`).
    public var fixedBytes: Int
    /// What the buffer pool may hold, live and cached, during the call (`BufferPool.withLimit`):
    /// the budget less the part of `fixedBytes` outside the pool
    /// (`MemoryBudget.hutchinsonUnpooledBytes`); nil without `--memory`.
    public var poolLimitBytes: Int?

    /// The most the call may hold by the bound.
    public var boundBytes: Int { fixedBytes + chunksInFlight * chunkBytes }

    /// The plan without `--memory`: one chunk per thread (as far as the batch has chunks), no pool limit.
    public static func unbounded(batch: Int, probesPerCall: Int, threads: Int, fixedBytes: Int, chunkBytes: Int) -> HutchinsonChunkPlan {
        HutchinsonChunkPlan(probesPerCall: probesPerCall, chunksInFlight: min(max(1, threads), chunkCount(batch)),
                            chunkExamples: chunkExamples(batch), chunkBytes: chunkBytes, fixedBytes: fixedBytes)
    }

    /// The asked probes per call with as many chunks in flight as fit, up to `threads` and the
    /// batch's chunk count; if not one fits, the most probes per call with which one does; nil
    /// when not even one probe fits. `fixedBytes(k)`, `chunkBytes(k)` and `unpooledBytes(k)` are
    /// a call's bytes at k probes per call.
    public static func choose(memory: Int, batch: Int, probesPerCall: Int, threads: Int, fixedBytes: (Int) -> Int,
                              chunkBytes: (Int) -> Int, unpooledBytes: (Int) -> Int = { _ in 0 }) -> HutchinsonChunkPlan? {
        for k in stride(from: max(1, probesPerCall), through: 1, by: -1) {
            let fixed = fixedBytes(k), chunk = max(1, chunkBytes(k))
            let fit = (memory - fixed) / chunk
            if fit >= 1 {
                return HutchinsonChunkPlan(probesPerCall: k, chunksInFlight: min(fit, max(1, threads), chunkCount(batch)),
                                           chunkExamples: chunkExamples(batch), chunkBytes: chunk, fixedBytes: fixed,
                                           poolLimitBytes: memory - unpooledBytes(k))
            }
        }
        return nil
    }

    /// Examples per chunk for a batch (`Executor.quadraticFormChunk` at most), and the chunk count.
    static func chunkExamples(_ batch: Int) -> Int { max(1, min(batch, Executor<Float>.quadraticFormChunk)) }
    static func chunkCount(_ batch: Int) -> Int { max(1, (batch + chunkExamples(batch) - 1) / chunkExamples(batch)) }

    /// One line for the log: what --memory left Hutchinson, and with several chunks in flight the
    /// `--memory` that runs one at a time (less memory, some more time).
    public var summary: String {
        let plan = String(format: "Hutchinson runs %d chunk(s) of %d example(s) at once at %d probe(s) per call, bound %.1f MB "
                            + "(%.1f MB a chunk, %.1f MB parameters, directions, data and slack)",
                          chunksInFlight, chunkExamples, probesPerCall, Double(boundBytes) / 1e6, Double(chunkBytes) / 1e6,
                          Double(fixedBytes) / 1e6)
        guard chunksInFlight > 1, let gb = oneChunkMemoryGB else { return plan }
        return plan + String(format: "; --memory %.3f would run one chunk at a time", gb)
    }

    /// A `--memory` in whole MB (as GB) above fixed + one chunk, so that it runs one chunk at this
    /// many probes per call (`choose` fits ⌊(memory − fixed) / chunk⌋ chunks); nil where a chunk
    /// under 2 MB leaves no whole MB that fits exactly one.
    public var oneChunkMemoryGB: Double? {
        let megabytes = (fixedBytes + chunkBytes) / 1_000_000 + 1
        let bytes = Int(Double(megabytes) / 1000 * 1e9)   // what --memory's parser makes of it
        return (bytes - fixedBytes) / max(1, chunkBytes) == 1 ? Double(megabytes) / 1000 : nil
    }
}

extension MemoryBudget {
    /// What `--memory` keeps aside beyond what a Hutchinson call counts (code, the runtime, the
    /// batch being cut into chunks, small unpooled buffers).
    public static var hutchinsonSlackBytes: Int { 512 << 20 }

    /// A Hutchinson call's bytes besides its chunks: the data set's floats, the parameters three
    /// times (the graph's, the executor's, the call's stacked copy) and the convolution weights'
    /// packings twice (forward and data-gradient layouts; `packed*Bytes` count one packing each,
    /// `Kernels.largestPackedFloats`: up to 4x a 3x3 weight), the k directions once (stacked once
    /// for the task's batches, `StackedDirections`) and their packings twice, plus the slack.
    public static func hutchinsonFixedBytes(dataBytes: Int, parameterBytes: Int, packedParameterBytes: Int,
                                            directionBytes: Int, packedDirectionBytes: Int, k: Int) -> Int {
        dataBytes + 3 * parameterBytes + 2 * packedParameterBytes + k * (directionBytes + 2 * packedDirectionBytes) + hutchinsonSlackBytes
    }

    /// The part of `hutchinsonFixedBytes` outside the buffer pool: the data set, the graph's and
    /// the executor's parameters, and the slack. (The stacked directions and copies and the
    /// packings are pooled.)
    public static func hutchinsonUnpooledBytes(dataBytes: Int, parameterBytes: Int) -> Int {
        dataBytes + 2 * parameterBytes + hutchinsonSlackBytes
    }
}
