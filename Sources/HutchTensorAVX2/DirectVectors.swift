/// What the AVX2 and AVX-512 kernels share, at the vector width V of each (SIMD8 / SIMD16 of
/// Float): the step offset table, loads, stores and the one-vector tile. `@inlinable` and always
/// inlined, so that each kernel compiles them for its own target's CPU (Swift has no
/// per-function target attribute); only the kernels, themselves `@inline(never)`, call them.
public enum DirectVectors {
    @inlinable @inline(__always)
    public static func load<V: SIMD>(_ p: UnsafePointer<Float>, as: V.Type = V.self) -> V where V.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    /// v into y at p: stored, added to what is there, or added to the addend at its offset.
    @inlinable @inline(__always)
    public static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>, _ mode: DirectStore) where V.Scalar == Float {
        let sum: V
        switch mode {
        case .overwrite: sum = v
        case .accumulate: sum = load(p) + v
        case .addend(let offset): sum = load(p + offset) + v
        }
        UnsafeMutableRawPointer(p).storeBytes(of: sum, as: V.self)
    }

    /// v into y at p, lanes `lanes` only (`PlaneVectors.lanes`: first * 256 + end, the whole
    /// vector when it equals V's width): the same sums as `store`, lane by lane at a tail.
    @inlinable @inline(__always)
    public static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>, _ mode: DirectStore, lanes: Int)
    where V.Scalar == Float {
        if lanes == V.scalarCount { return store(v, p, mode) }
        for l in (lanes >> 8)..<(lanes & 255) {
            switch mode {
            case .overwrite: p[l] = v[l]
            case .accumulate: p[l] = p[l] + v[l]
            case .addend(let offset): p[l] = p[l + offset] + v[l]
            }
        }
    }

    /// table[(ci * kh + i) * kw + j] = tap(i, j) + ci * channelStride: every step's input offset,
    /// the first channel's taps shifted by whole channels (no division per step: a table of 576
    /// steps built with divisions cost 2-3 us, 10 % of a 64-channel call).
    @inlinable @inline(__always)
    public static func stepOffsets(_ table: UnsafeMutablePointer<Int>, channels: Int, kh: Int, kw: Int, channelStride: Int,
                                   tap: (Int, Int) -> Int) {
        for i in 0..<kh {
            for j in 0..<kw { table[i * kw + j] = tap(i, j) }
        }
        let kk = kh * kw
        for ci in 1..<max(1, channels) {
            for r in 0..<kk { table[ci * kk + r] = table[r] + ci * channelStride }
        }
    }

    /// Drops the steps of the input channels whose plane (`channelStride` floats from ci *
    /// channelStride; the table's offsets are linear in ci from 0) is all zeros, as ReLU leaves
    /// one example's channel (7 % of ResNet-20's planes on average, a quarter of some 8x8 ones:
    /// Benchmarks/README.md). `off` keeps the other steps in order, in place, and wo[k] is 4 x
    /// each kept step's index, the offset of its packed weights. A dropped step would add 0 * w
    /// to its sums, which leaves them as they are for finite w (Hutch refuses non-finite weights),
    /// so the bits stay. Returns the kept step count; `skip` false keeps every step.
    @inlinable @inline(__always)
    public static func keptSteps(_ off: UnsafeMutablePointer<Int>, weights wo: UnsafeMutablePointer<Int>, channels: Int,
                                 kk: Int, input: UnsafePointer<Float>, channelStride: Int, skip: Bool) -> Int {
        var kept = 0
        for ci in 0..<channels {
            if skip && allZero(input + ci * channelStride, channelStride) { continue }
            for r in 0..<kk {   // kept <= ci * kk + r: in place
                off[kept] = off[ci * kk + r]
                wo[kept] = 4 * (ci * kk + r)
                kept += 1
            }
        }
        return kept
    }

    /// Whether p[0..<n] are all zeros (NaN is not).
    @inlinable @inline(__always)
    public static func allZero(_ p: UnsafePointer<Float>, _ n: Int) -> Bool {
        var i = 0
        while i + 8 <= n {
            if any(load(p + i, as: SIMD8<Float>.self) .!= 0) { return false }
            i += 8
        }
        while i < n {
            if p[i] != 0 { return false }
            i += 1
        }
        return true
    }

    /// Calls body(weights, channels, y) for each block of 4 output channels (the last may hold
    /// fewer): its packed weights (4 per step), its channel count and its first output plane.
    @inlinable @inline(__always)
    public static func channelBlocks(outChannels: Int, steps: Int, packed: UnsafePointer<Float>,
                                     y: UnsafeMutablePointer<Float>, planeStride ys: Int,
                                     _ body: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void) {
        for cb in 0..<((outChannels + 3) / 4) {
            body(packed + cb * steps * 4, min(4, outChannels - cb * 4), y + cb * 4 * ys)
        }
    }

    /// One output vector (input offset o0, output y0, stored lanes `lanes`) of up to 4 channels
    /// `ys` apart: the tail after the wider tiles. Steps in order (`keptSteps`: input offsets `off`,
    /// weight offsets `wo`), fma'd from zero: the wider tiles' bits.
    @inlinable @inline(__always)
    public static func tile1<V: SIMD>(_ x: UnsafePointer<Float>, _ o0: Int, _ w: UnsafePointer<Float>,
                                      _ off: UnsafePointer<Int>, _ wo: UnsafePointer<Int>, _ steps: Int,
                                      _ y0: UnsafeMutablePointer<Float>, _ lanes: Int,
                                      _ ys: Int, _ channels: Int, _ mode: DirectStore, as: V.Type) where V.Scalar == Float {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        let x0 = x + o0
        for k in 0..<steps {
            let wp = w + wo[k]
            let v0: V = load(x0 + off[k])
            a0 = a0.addingProduct(v0, V(repeating: wp[0])); a1 = a1.addingProduct(v0, V(repeating: wp[1]))
            a2 = a2.addingProduct(v0, V(repeating: wp[2])); a3 = a3.addingProduct(v0, V(repeating: wp[3]))
        }
        store(a0, y0, mode, lanes: lanes)
        if channels > 1 { store(a1, y0 + ys, mode, lanes: lanes) }
        if channels > 2 { store(a2, y0 + 2 * ys, mode, lanes: lanes) }
        if channels > 3 { store(a3, y0 + 3 * ys, mode, lanes: lanes) }
    }
}

/// The output vectors of one [OH, OW] plane at vector width V, row by row, ceil(OW / V) per row
/// (any OW): vector i of a row starts at column V * i, the last at OW - V when OW >= V, so that it
/// overlaps the one before and stores only its new lanes (no read past the row), and at 0 when
/// OW < V, its lanes past OW reading the padded input past the row (the kernels' padded input
/// has `DirectConvShape.readSlack` floats after it for that) and never stored. A lane's sum is
/// the same whichever vector computes it: any width, any tail, the same bits.
/// Three tables of `count` Ints at `base`: input offset, output offset, stored lanes (first * 256 + end).
public struct PlaneVectors {
    public let count: Int
    public let input: UnsafeMutablePointer<Int>, output: UnsafeMutablePointer<Int>, lanes: UnsafeMutablePointer<Int>

    /// Vectors per row of OW columns at width V.
    @inlinable @inline(__always)
    public static func perRow(_ outWidth: Int, width v: Int) -> Int { (outWidth + v - 1) / v }

    /// Ints `init` fills at `base` for a plane of OH x OW at width V.
    @inlinable @inline(__always)
    public static func tableCount(outHeight: Int, outWidth: Int, width v: Int) -> Int { 3 * outHeight * perRow(outWidth, width: v) }

    /// Rows of a plane whose output row oy starts at input offset oy * rowInput.
    @inlinable @inline(__always)
    public init(_ base: UnsafeMutablePointer<Int>, outHeight: Int, outWidth: Int, width v: Int, rowInput: Int) {
        let vpr = Self.perRow(outWidth, width: v)
        count = outHeight * vpr
        (input, output, lanes) = (base, base + count, base + 2 * count)
        var k = 0
        for oy in 0..<outHeight {
            for i in 0..<vpr {
                let start = outWidth >= v ? min(v * i, outWidth - v) : 0
                input[k] = oy * rowInput + start
                output[k] = oy * outWidth + start
                lanes[k] = (v * i - start) * 256 + min(v, outWidth - start)
                k += 1
            }
        }
    }

    /// Flat planes (`count` whole vectors, vector k at offset V * k in both).
    @inlinable @inline(__always)
    public init(_ base: UnsafeMutablePointer<Int>, flat count: Int, width v: Int) {
        self.count = count
        (input, output, lanes) = (base, base + count, base + 2 * count)
        for k in 0..<count { (input[k], output[k], lanes[k]) = (v * k, v * k, v) }
    }
}
