import Foundation

/// Packed convolution weights kept across the kernel calls of one job step: Hutchinson's chunks
/// each run every convolution on the same weights and probe directions, and packing them again
/// per chunk cost 3-4 % of a probe (more for smaller chunks).
///
/// Keys hold raw weight addresses, so only buffers `register`ed by the owner are cached: they
/// must stay alive and unchanged while the cache is in use (a freed and reused address would
/// hit a stale entry). Anything else is packed into scratch as before. Thread-safe; kernels
/// find the cache of their thread through `Kernels.withPackedWeights`.
public final class PackedWeightCache: @unchecked Sendable {
    /// What was packed: the weights' address and block stride, how many blocks, the kernel
    /// geometry and the packing.
    struct Key: Hashable {
        enum Layout: Hashable {
            /// `directForward`'s weights, as given or flipped and transposed (`DirectWeights`).
            case direct(Kernels.DirectWeights)
            /// `directBackwardData`'s sub-kernels of the stride phases.
            case stridePhases
            /// `winogradTilesForward`'s transformed weights for its tile, of w as given or flipped and transposed.
            case winogradTiles(tile: Int, Kernels.DirectWeights)
        }
        var address: UInt
        var blockStride: Int
        var blocks: Int
        var geometry: ConvGeometry
        var layout: Layout

        /// The batch does not change the packing: a chunk's last, shorter part shares it.
        init(_ weights: UnsafePointer<Float>, blockStride: Int, blocks: Int, geometry: ConvGeometry, layout: Layout) {
            address = UInt(bitPattern: weights)
            self.blockStride = blockStride
            self.blocks = blocks
            self.geometry = geometry
            self.geometry.batch = 0
            self.layout = layout
        }
    }

    private let lock = NSLock()
    private var registered: [(start: UInt, end: UInt)] = []
    private var entries: [Key: (pointer: UnsafeMutablePointer<Float>, count: Int)] = [:]

    public init() {}

    deinit {
        for entry in entries.values { BufferPool.shared.release(entry.pointer, entry.count) }
    }

    /// Allows caching packs of weights inside [pointer, pointer + count): the caller keeps them
    /// alive and unchanged for the cache's lifetime.
    public func register<Scalar>(_ pointer: UnsafePointer<Scalar>, count: Int) {
        let start = UInt(bitPattern: pointer)
        lock.lock()
        registered.append((start, start + UInt(count * MemoryLayout<Scalar>.stride)))
        lock.unlock()
    }

    /// Packs held (for tests).
    var entryCount: Int { lock.lock(); defer { lock.unlock() }; return entries.count }

    /// The packed floats for `key`, made by `pack` on first use; nil when the weights are not
    /// registered (the caller packs into scratch).
    func packed(_ key: Key, count: Int, _ pack: (UnsafeMutablePointer<Float>) -> Void) -> UnsafePointer<Float>? {
        lock.lock()
        defer { lock.unlock() }
        guard registered.contains(where: { $0.start <= key.address && key.address < $0.end }) else { return nil }
        if let entry = entries[key] { return UnsafePointer(entry.pointer) }
        // packed under the lock: a pack is microseconds, and a second thread wants the same one
        let pointer = BufferPool.shared.scratch(count, of: Float.self)
        pack(pointer)
        entries[key] = (pointer, count)
        return UnsafePointer(pointer)
    }
}

extension Kernels {
    /// Runs `body` with the convolutions it calls on this thread taking packed weights from
    /// `cache` (set it again inside `parallelItems` items, which run on other threads).
    public static func withPackedWeights<T, E: Error>(_ cache: PackedWeightCache, _ body: () throws(E) -> T) throws(E) -> T {
        let saved = pthread_getspecific(packedWeightCacheKey)
        pthread_setspecific(packedWeightCacheKey, Unmanaged.passUnretained(cache).toOpaque())
        defer { pthread_setspecific(packedWeightCacheKey, saved) }
        return try body()
    }

    /// The cache `withPackedWeights` set for this thread.
    static var packedWeights: PackedWeightCache? {
        pthread_getspecific(packedWeightCacheKey).map { Unmanaged<PackedWeightCache>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Packed weights from this thread's cache, or packed into scratch by `pack` and handed to
    /// `body`, then released. `count` floats.
    static func withPacked<T>(_ key: PackedWeightCache.Key, count: Int, pack: (UnsafeMutablePointer<Float>) -> Void,
                              _ body: (UnsafePointer<Float>) -> T) -> T {
        if let cache = packedWeights, let cached = cache.packed(key, count: count, pack) { return body(cached) }
        let scratch = BufferPool.shared.scratch(count, of: Float.self)
        defer { BufferPool.shared.release(scratch, count) }
        pack(scratch)
        return body(UnsafePointer(scratch))
    }
}

private let packedWeightCacheKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

extension Kernels {
    /// Floats one packing of a convolution weight of this shape ([C_out, C_in / group, kH, kW])
    /// takes in the packed-weight cache at most. 3x3 kernels: `winogradTilesForward`'s transformed
    /// weights, 36 per channel pair (4x w) where one of its directions may run the per-example
    /// F(4x4) (fewer than `ConvPathTable.winograd4FirstChannels` input channels, forward or as the
    /// data gradient's transposed forward: the GEMM F(4x4), which packs nothing here, takes
    /// the wider ones first), else 16 (F(2x2)); each direction's output channels rounded up to 4.
    /// Other kernels: the direct kernel's packing, w with C_out rounded up to 4. The memory plan
    /// counts two per weight and direction (forward and flipped for the data gradient).
    public static func largestPackedFloats(weightShape s: [Int]) -> Int {
        guard s.count == 4 else { return s.reduce(1, *) }
        let fours = (s[0] + 3) / 4 * 4
        guard s[2] == 3 && s[3] == 3 else { return fours * s[1] * s[2] * s[3] }
        let pairs = max(fours * s[1], (s[1] + 3) / 4 * 4 * s[0])
        return (min(s[0], s[1]) < ConvPathTable.winograd4FirstChannels ? 36 : 16) * pairs
    }
}
