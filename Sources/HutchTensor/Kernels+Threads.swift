import CBLAS
import Foundation

extension Kernels {
    /// Threads the kernels use: `configuredThreads`, or the budget `withThreads` set for the
    /// calling thread. A kernel reads it once, on the thread that calls it.
    public static var threads: Int {
        let budget = Int(bitPattern: pthread_getspecific(threadBudgetKey))
        return budget > 0 ? budget : configuredThreads
    }

    /// Threads the kernels use outside `withThreads`: `setThreads`'s count, else HUTCH_THREADS
    /// (benchmarks), else the active processor count.
    public static var configuredThreads: Int {
        let chosen = chosenThreads
        return chosen > 0 ? chosen : defaultThreads
    }

    /// The process's thread count (the CLI's `--threads`); call before any kernel runs, from one
    /// thread: it is read without a lock on every kernel call.
    public static func setThreads(_ count: Int) {
        _ = defaultThreads   // OpenBLAS is set to one thread first, as for the default
        chosenThreads = max(1, count)
    }

    nonisolated(unsafe) private static var chosenThreads = 0

    /// Convolutions split their examples between threads, each running single-threaded GEMMs on
    /// its own chunks: on 2 cores this beat OpenBLAS's own threading of the same GEMMs by far,
    /// which spends its time yielding between many medium calls. So OpenBLAS is set to one thread
    /// the first time this is read.
    private static let defaultThreads: Int = {
        openblas_set_num_threads(1)
        return KernelOverrides.process.threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body` with the kernels it calls on this thread limited to `budget` threads: for
    /// callers that split work at a coarser level (`parallelItems`). Budgets nest.
    public static func withThreads<T, E: Error>(_ budget: Int, _ body: () throws(E) -> T) throws(E) -> T {
        let saved = pthread_getspecific(threadBudgetKey)
        pthread_setspecific(threadBudgetKey, UnsafeRawPointer(bitPattern: max(1, budget)))
        defer { pthread_setspecific(threadBudgetKey, saved) }
        return try body()
    }

    /// Runs body(i) for the independent items i in 0..<count on up to `threads` threads, handed
    /// out one at a time (a thread that loses its core does not hold the others up); the kernels
    /// inside an item share the remaining threads. The first error thrown is rethrown once all
    /// running items have finished; items not yet started are skipped after it. At most
    /// `maxConcurrent` items run at once (a memory bound), each then with more kernel threads.
    public static func parallelItems<E: Error>(_ count: Int, maxConcurrent: Int = .max,
                                               _ body: (Int) throws(E) -> Void) throws(E) {
        let total = threads
        let p = max(1, min(total, count, maxConcurrent))
        if p == 1 {
            for i in 0..<count { try body(i) }
            return
        }
        let queue = WorkQueue(count)
        let failure = FirstError<E>()
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let shared = body
            DispatchQueue.concurrentPerform(iterations: p) { _ in
                withThreads(total / p) {
                    while failure.error == nil, let i = queue.next() {
                        do throws(E) { try shared(i) } catch { failure.record(error) }
                    }
                }
            }
        }
        if let error = failure.error { throw error }
    }

    /// Runs body(i) for i in 0..<count, spread over `threads` threads (contiguous ranges) when
    /// there is more than one iteration. Iterations must write disjoint memory. Bodies run on
    /// other threads with the default budget: read `threads` before, not inside.
    public static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        let p = min(count, threads)
        if p < 2 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // iterations write disjoint memory (the caller's contract), so sharing is safe
            nonisolated(unsafe) let shared = body
            DispatchQueue.concurrentPerform(iterations: p) { t in
                for i in (count * t / p)..<(count * (t + 1) / p) { shared(i) }
            }
        }
    }

    /// Splits 0..<count into pieces of at least `grain` for pointwise loops.
    public static func parallelRanges(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        let pieces = max(1, min(threads, count / max(grain, 1)))
        if pieces < 2 { body(0..<count); return }
        parallelFor(pieces) { t in body((count * t / pieces)..<(count * (t + 1) / pieces)) }
    }
}

extension Kernels {
    /// A GEMM outside the convolution kernels (Gemm, MatMul), on the calling thread. OpenBLAS's
    /// own threads split the sum of a product with a long inner dimension (32 x 768 x 50257,
    /// GPT-2's adjoint through its vocabulary), which gave other bits at 2 threads than at 1
    /// (`GemmThreadBitsTests`). Threads split work above it (chunks of examples).
    ///
    /// Without transA, the rows of A are items (examples, tokens), and a row's bits must not
    /// depend on which rows share its product, as quantization's windows and a cluster's workers
    /// need (`GemmRowBitsTests`). For Float on AVX2 the product runs on `FixedOrderGemm`
    /// (Kernels+GemmFixedOrder). Otherwise each row runs in an OpenBLAS call of exactly
    /// `gemmRowBlock` rows, the last one padded with zero rows: OpenBLAS's Zen 3 kernels give a
    /// row other bits in a call of another row count (and at another position of a call of 16
    /// rows or more), never at another position of an 8-row call.
    public static func gemm<Scalar: TensorScalar>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                                  alpha: Scalar, a: UnsafePointer<Scalar>, lda: Int,
                                                  b: UnsafePointer<Scalar>, ldb: Int,
                                                  beta: Scalar, c: UnsafeMutablePointer<Scalar>, ldc: Int) {
        _ = defaultThreads   // OpenBLAS on one thread even in a process whose kernels never asked for threads yet
        let rows = gemmRowBlock
        guard !transA, m > 0, n > 0 else {
            Scalar.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: c, ldc: ldc)
            return
        }
        if Scalar.self == Float.self, gemmFixedOrder {
            return gemmFixedOrder(transB: transB, m: m, n: n, k: k, alpha: unsafeBitCast(alpha, to: Float.self), a: floats(a), lda: lda,
                                  b: floats(b), ldb: ldb, beta: unsafeBitCast(beta, to: Float.self), c: floats(c), ldc: ldc)
        }
        var first = 0
        while first + rows <= m {
            Scalar.gemm(transA: false, transB: transB, m: rows, n: n, k: k, alpha: alpha, a: a + first * lda, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: c + first * ldc, ldc: ldc)
            first += rows
        }
        let left = m - first
        guard left > 0 else { return }
        // the last rows in a zero-padded block of `rows`
        let pa = BufferPool.shared.scratch(rows * k, of: Scalar.self), pc = BufferPool.shared.scratch(rows * n, of: Scalar.self)
        defer { BufferPool.shared.release(pa, rows * k); BufferPool.shared.release(pc, rows * n) }
        pa.update(repeating: 0, count: rows * k)
        pc.update(repeating: 0, count: rows * n)
        for r in 0..<left {
            (pa + r * k).update(from: a + (first + r) * lda, count: k)
            if beta != 0 { (pc + r * n).update(from: c + (first + r) * ldc, count: n) }
        }
        Scalar.gemm(transA: false, transB: transB, m: rows, n: n, k: k, alpha: alpha, a: pa, lda: k, b: b, ldb: ldb,
                    beta: beta, c: pc, ldc: n)
        for r in 0..<left { (c + (first + r) * ldc).update(from: pc + r * n, count: n) }
    }

    /// Rows of A per OpenBLAS call in `gemm` (without transA).
    static let gemmRowBlock = 8
}

/// The per-thread kernel budget of `Kernels.withThreads` (0 = none set).
private let threadBudgetKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// The first error of several threads.
final class FirstError<E: Error>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: E?
    var error: E? { lock.lock(); defer { lock.unlock() }; return stored }
    func record(_ error: E) {
        lock.lock(); defer { lock.unlock() }
        if stored == nil { stored = error }
    }
}

/// Items handed out one at a time to the threads of a kernel: on a shared machine a thread that
/// loses its core does not hold the others up. What an item computes does not depend on the
/// thread that takes it, so neither do the bits.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var nextItem = 0
    private let count: Int

    init(_ count: Int) { self.count = count }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard nextItem < count else { return nil }
        nextItem += 1
        return nextItem - 1
    }
}
