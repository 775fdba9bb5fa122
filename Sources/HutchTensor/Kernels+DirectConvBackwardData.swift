import HutchTensorAVX2

/// The strided data gradient (stride > 1) by the direct AVX2 kernel. dx splits into stride phases
/// (iy mod sH, ix mod sW); each phase is a stride-1 correlation of dy with the kernel taps of that
/// phase (kh = the phase's residue, + sH, ...; reversed), so it runs on the forward kernel into a
/// scratch [C_in, H/sH, W/sW] and is scattered into dx. Every dx element is summed in the fixed
/// order (co, kh, kw) by one thread: bits depend neither on threads nor on blocks.
extension Kernels {
    /// One stride phase of the data gradient: the dx positions iy = a * sH + py, ix = b * sW + px.
    struct DirectDataPhase {
        var py: Int, px: Int
        /// The stride-1 correlation for this phase, nil when no kernel tap reaches it (dx is 0 there).
        var shape: DirectConvShape?
        /// Largest kh and kw of the phase's taps; tap t is kh = khMax - t * sH.
        var khMax: Int, kwMax: Int
    }

    /// The phases of the direct data gradient for this geometry, or nil when the kernel cannot
    /// run it: stride > 1, no groups or dilations, H and W multiples of the strides (every phase
    /// H / sH x W / sW, any width).
    static func directDataPhases(_ g: ConvGeometry) -> [DirectDataPhase]? {
        let (sh, sw) = (g.strideH, g.strideW)
        guard g.group == 1, g.dilationH == 1, g.dilationW == 1, sh * sw > 1, g.inHeight % sh == 0,
              g.inWidth % sw == 0 else { return nil }
        var phases = [DirectDataPhase]()
        for py in 0..<sh {
            for px in 0..<sw {
                // taps kh = rh, rh + sH, ... < kH reach iy = a * sH + py from oy = a + (py + padTop - kh) / sH
                let rh = (py + g.padTop) % sh, rw = (px + g.padLeft) % sw
                let th = rh < g.kernelHeight ? (g.kernelHeight - rh + sh - 1) / sh : 0
                let tw = rw < g.kernelWidth ? (g.kernelWidth - rw + sw - 1) / sw : 0
                let khMax = rh + (th - 1) * sh, kwMax = rw + (tw - 1) * sw
                var shape: DirectConvShape?
                if th > 0 && tw > 0 {
                    // reversed taps: input offset of tap t is dMin + t, dMin = (py + padTop - khMax) / sH
                    let dh = (py + g.padTop - khMax) / sh, dw = (px + g.padLeft - kwMax) / sw
                    shape = DirectConvShape(inChannels: g.outChannels, inHeight: g.outHeight, inWidth: g.outWidth,
                                            outChannels: g.inChannels, kernelHeight: th, kernelWidth: tw, strideH: 1, strideW: 1,
                                            padTop: -dh, padLeft: -dw, outHeight: g.inHeight / sh, outWidth: g.inWidth / sw)
                    guard shape!.fits else { return nil }
                }
                phases.append(DirectDataPhase(py: py, px: px, shape: shape, khMax: khMax, kwMax: kwMax))
            }
        }
        return phases
    }

    /// The table's direct rule for a strided data gradient (ConvPathTable).
    static func directDataApplies(_ g: ConvGeometry) -> Bool { ConvPathTable.host.directData(g) }

    /// dx[b] (+)= conv_transpose(dy[b], w[b]) for strided geometries, `workers` threads at most.
    static func directBackwardData(_ g: ConvGeometry, blocks: Int,
                                   dy: UnsafePointer<Float>, dyBlockStride: Int,
                                   w: UnsafePointer<Float>, wBlockStride: Int,
                                   dx: UnsafeMutablePointer<Float>, accumulate: Bool, workers: Int = threads,
                                   avx512: Bool = directAVX512Enabled) {
        guard cpuHasAVX2FMA, let phases = directDataPhases(g) else {
            preconditionFailure("directBackwardData called for a geometry or CPU it does not support")
        }
        let (sh, sw, cin, cout, kh, kw) = (g.strideH, g.strideW, g.inChannels, g.outChannels, g.kernelHeight, g.kernelWidth)
        let wBlocks = wBlockStride == 0 ? 1 : blocks
        // packed weights of every (block, phase), at offsets[b * phases + p]
        var offsets = [Int](), total = 0
        for _ in 0..<wBlocks {
            for ph in phases { offsets.append(total); total += ph.shape?.packedWeightCount ?? 0 }
        }
        let maxTaps = phases.map { ($0.shape?.kernelHeight ?? 0) * ($0.shape?.kernelWidth ?? 0) }.max() ?? 0
        let key = PackedWeightCache.Key(w, blockStride: wBlockStride, blocks: wBlocks, geometry: g, layout: .stridePhases)
        withPacked(key, count: total, pack: { packed in
            let sub = BufferPool.shared.scratch(cin * cout * maxTaps, of: Float.self)
            defer { BufferPool.shared.release(sub, cin * cout * maxTaps) }
            for b in 0..<wBlocks {
                let wb = w + b * wBlockStride
                for (p, ph) in phases.enumerated() {
                    guard let s = ph.shape else { continue }
                    // sub-kernel [C_in][C_out][t_h][t_w] = w[co][ci][khMax - t_h * sH][kwMax - t_w * sW]
                    for ci in 0..<cin {
                        for co in 0..<cout {
                            for th in 0..<s.kernelHeight {
                                for tw in 0..<s.kernelWidth {
                                    sub[((ci * cout + co) * s.kernelHeight + th) * s.kernelWidth + tw] =
                                        wb[((co * cin + ci) * kh + ph.khMax - th * sh) * kw + ph.kwMax - tw * sw]
                                }
                            }
                        }
                    }
                    DirectConvAVX2.packWeights(s, w: sub, into: packed + offsets[b * phases.count + p])
                }
            }
        }) { packed in
            directPhases(g, phases, blocks: blocks, dy: dy, dyBlockStride: dyBlockStride, packed: packed, offsets: offsets,
                         sharedWeights: wBlockStride == 0, dx: dx, accumulate: accumulate, workers: workers, avx512: avx512)
        }
    }

    /// The examples of `directBackwardData` through the kernel, per stride phase, on packed
    /// weights (block b, phase p at offsets[b * phases + p]; block 0 for all when shared).
    private static func directPhases(_ g: ConvGeometry, _ phases: [DirectDataPhase], blocks: Int, dy: UnsafePointer<Float>,
                                     dyBlockStride: Int, packed: UnsafePointer<Float>, offsets: [Int], sharedWeights: Bool,
                                     dx: UnsafeMutablePointer<Float>, accumulate: Bool, workers: Int, avx512: Bool) {
        let (sh, sw, cin, cout) = (g.strideH, g.strideW, g.inChannels, g.outChannels)
        let (h, wd, hp, wp) = (g.inHeight, g.inWidth, g.inHeight / sh, g.inWidth / sw)
        let inCount = cin * h * wd, outCount = cout * g.outSpatial
        let kernels = phases.map { $0.shape.map { directKernel($0, allowed: avx512) } ?? .avx2 }
        let scratch = zip(phases, kernels).map { ph, k in ph.shape.map { directScratchCount($0, k) } ?? (padded: 0, expanded: 0) }
        let paddedMax = scratch.map(\.padded).max() ?? 0, expandedMax = scratch.map(\.expanded).max() ?? 0
        let items = ExampleItems(batch: g.batch, blocks: blocks, sharedInput: dyBlockStride == 0)
        parallelFor(items.threads(workers)) { _ in
            let padded = BufferPool.shared.scratch(paddedMax, of: Float.self)
            let expanded = BufferPool.shared.scratch(expandedMax, of: Float.self)
            let tmp = BufferPool.shared.scratch(cin * hp * wp, of: Float.self)
            defer {
                BufferPool.shared.release(padded, paddedMax); BufferPool.shared.release(expanded, expandedMax)
                BufferPool.shared.release(tmp, cin * hp * wp)
            }
            while case let (bs, e)? = items.next() {
                for (pi, ph) in phases.enumerated() {
                    if let s = ph.shape {
                        directPrepare(s, kernels[pi], x: dy + bs.lowerBound * dyBlockStride + e * outCount, padded: padded,
                                      expanded: expanded)
                    }
                    for b in bs {
                        let dxe = dx + b * g.inputCount + e * inCount
                        if let s = ph.shape {
                            directExample(s, kernels[pi], padded: padded, expanded: expanded,
                                          packed: packed + offsets[(sharedWeights ? 0 : b) * phases.count + pi], y: tmp,
                                          accumulate: false)
                        } else if accumulate {
                            continue
                        } else {
                            tmp.update(repeating: 0, count: cin * hp * wp)
                        }
                        // rows a of channel ci are dx rows a * sH + py: one row stride sH * W for all (ci, a)
                        DirectConvAVX2.scatterPhase(tmp, rows: cin * hp, width: wp, into: dxe + ph.py * wd, dstRowStride: sh * wd,
                                                    rowLength: wd, stride: sw, phase: ph.px, accumulate: accumulate)
                    }
                }
            }
        }
    }
}
