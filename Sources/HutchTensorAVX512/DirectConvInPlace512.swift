import HutchTensorAVX2

/// The AVX-512 direct kernel on the unpadded input, for the 3x3 'same' layers: stride 1, three
/// tap columns with one column of padding on each side (OW = W), rows of whole 16-column vectors.
/// It replaces the padded copy (5 % of a ResNet-20 probe) by loads from the input rows: the pad
/// columns are lanes masked to +0 in the load (column -1 of a row's first vector at tap column 0,
/// which reads the float before the row; column W of its last vector at tap column 2), and rows in
/// the vertical padding are read from a zero row, through a table of row pointers built per call.
/// The first row of channel 0 and the last row of the last channel are read from zero-bordered
/// copies, so that no load leaves the input. The same packed weights, the same loaded values and
/// the same order (ci, kh, kw) as `forward`, fma'd from zero: the same bits.
extension DirectConvAVX512 {
    public static func fitsInPlace(_ s: DirectConvShape) -> Bool {
        s.fits && s.strideH == 1 && s.strideW == 1 && s.kernelWidth == 3 && s.padLeft == 1 && s.inWidth == s.outWidth
            && s.outWidth % 16 == 0
    }

    /// y [C_out, OH, OW] (+)= conv(x of one example [C_in, H, W], packed weights); `fitsInPlace(s)`.
    @inline(never)
    public static func forwardInPlace(_ s: DirectConvShape, x: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                                      y: UnsafeMutablePointer<Float>, mode: DirectStore) {
        let (c, h, w, ph) = (s.inChannels, s.inHeight, s.inWidth, s.paddedHeight)
        let steps = c * s.kernelHeight * 3, ys = s.outHeight * w
        let perRow = w / 16
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * (w + 2)) { strips in
            // a zero row, and the input's first and last rows with a zero on each side
            let zero = strips.baseAddress!, first = zero + (w + 2), last = first + (w + 2)
            zero.initialize(repeating: 0, count: 3 * (w + 2))
            for j in 0..<w { first[1 + j] = x[j]; last[1 + j] = x[(c * h - 1) * w + j] }
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: c * ph) { table in
                let rows = table.baseAddress!
                for ci in 0..<c {
                    for r in 0..<ph {
                        let iy = r - s.padTop
                        let row: UnsafeMutablePointer<Float>? = iy < 0 || iy >= h ? zero
                            : ci == 0 && iy == 0 ? first : ci == c - 1 && iy == h - 1 ? last : nil
                        (rows + ci * ph + r).initialize(to: row.map { UnsafePointer($0 + 1) } ?? x + (ci * h + iy) * w)
                    }
                }
                DirectVectors.channelBlocks(outChannels: s.outChannels, steps: steps, packed: packed, y: y,
                                            planeStride: ys) { wp, channels, yc in
                    // tiles of 4 rows at one column, so that a tile's pad lanes are known
                    // constants: lane 0 on a row's first vector, lane 15 on its last
                    for cx in 0..<perRow {
                        let (left, right) = (cx == 0, cx == perRow - 1)
                        var oy = 0
                        while oy < s.outHeight {
                            let t = Tile(rows: rows, ph: ph, channels: c, kh: s.kernelHeight, oy: oy, count: min(4, s.outHeight - oy),
                                         ox: cx * 16, width: w)
                            switch (left, right) {
                            case (true, true): t.run(wp, yc, ys, channels, mode, left: true, right: true)
                            case (true, false): t.run(wp, yc, ys, channels, mode, left: true, right: false)
                            case (false, true): t.run(wp, yc, ys, channels, mode, left: false, right: true)
                            case (false, false): t.run(wp, yc, ys, channels, mode, left: false, right: false)
                            }
                            oy += 4
                        }
                    }
                }
            }
        }
    }

    /// Output rows oy ..< oy + count (count <= 4; missing rows repeat the last and are not stored)
    /// at columns ox ..< ox + 16.
    struct Tile {
        let rows: UnsafePointer<UnsafePointer<Float>>, ph: Int, channels: Int, kh: Int, oy: Int, count: Int, ox: Int, width: Int

        /// `left` / `right`: the tile is a row's first / last vector (called with constants, so
        /// that the masks fold into the loads).
        @inline(__always)
        func run(_ weights: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ ys: Int, _ outChannels: Int,
                 _ mode: DirectStore, left: Bool, right: Bool) {
            // the pad lanes as +0.0, the bits of the padded copy's zeros
            let keepFirst = SIMD16<UInt32>(0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0)
            let keepLast = SIMD16<UInt32>(~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, ~0, 0)
            @inline(__always) func masked(_ p: UnsafePointer<Float>, _ on: Bool, _ keep: SIMD16<UInt32>) -> SIMD16<Float> {
                on ? unsafeBitCast(unsafeBitCast(load(p), to: SIMD16<UInt32>.self) & keep, to: SIMD16<Float>.self) : load(p)
            }
            let (d1, d2, d3) = (min(1, count - 1), min(2, count - 1), min(3, count - 1))
            var a = Accumulators()
            var wp = weights
            for ci in 0..<channels {
                let rc = rows + ci * ph + oy
                for i in 0..<kh {
                    let p0 = rc[i] + ox, p1 = rc[d1 + i] + ox, p2 = rc[d2 + i] + ox, p3 = rc[d3 + i] + ox
                    a.add(masked(p0 - 1, left, keepFirst), masked(p1 - 1, left, keepFirst), masked(p2 - 1, left, keepFirst),
                          masked(p3 - 1, left, keepFirst), wp)
                    a.add(load(p0), load(p1), load(p2), load(p3), wp + 4)
                    a.add(masked(p0 + 1, right, keepLast), masked(p1 + 1, right, keepLast), masked(p2 + 1, right, keepLast),
                          masked(p3 + 1, right, keepLast), wp + 8)
                    wp += 12
                }
            }
            let y0 = y + oy * width + ox
            for j in 0..<outChannels {
                let (s0, s1, s2, s3) = a.channel(j), o = y0 + j * ys
                DirectVectors.store(s0, o, mode)
                if count > 1 { DirectVectors.store(s1, o + width, mode) }
                if count > 2 { DirectVectors.store(s2, o + 2 * width, mode) }
                if count > 3 { DirectVectors.store(s3, o + 3 * width, mode) }
            }
        }
    }

    /// 4 channels x 4 vectors of sums, fma'd in step order.
    struct Accumulators {
        var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
        var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
        var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
        var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()

        /// One step: the 4 vectors' inputs times the 4 channels' weights wp[0...3].
        @inline(__always)
        mutating func add(_ v0: SIMD16<Float>, _ v1: SIMD16<Float>, _ v2: SIMD16<Float>, _ v3: SIMD16<Float>, _ wp: UnsafePointer<Float>) {
            let w0 = SIMD16<Float>(repeating: wp[0])
            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0); a02 = a02.addingProduct(v2, w0); a03 = a03.addingProduct(v3, w0)
            let w1 = SIMD16<Float>(repeating: wp[1])
            a10 = a10.addingProduct(v0, w1); a11 = a11.addingProduct(v1, w1); a12 = a12.addingProduct(v2, w1); a13 = a13.addingProduct(v3, w1)
            let w2 = SIMD16<Float>(repeating: wp[2])
            a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2); a22 = a22.addingProduct(v2, w2); a23 = a23.addingProduct(v3, w2)
            let w3 = SIMD16<Float>(repeating: wp[3])
            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3); a32 = a32.addingProduct(v2, w3); a33 = a33.addingProduct(v3, w3)
        }

        @inline(__always)
        func channel(_ j: Int) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
            switch j {
            case 0: (a00, a01, a02, a03)
            case 1: (a10, a11, a12, a13)
            case 2: (a20, a21, a22, a23)
            default: (a30, a31, a32, a33)
            }
        }
    }
}
