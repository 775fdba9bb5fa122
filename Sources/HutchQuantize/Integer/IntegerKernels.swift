import HutchTensor

/// The integer loops: products and sums of integers only, formed in Int64 and narrowed to int32
/// by the caller (`IntegerTensor(shape:sums:node:)`).
enum IntegerKernels {
    /// NCHW convolution; padding reads the input's zero point, so it adds nothing.
    static func conv(_ x: IntegerTensor, layer: IntegerLayer, _ g: ConvGeometry) -> [Int64] {
        let xs = x.data.map { Int64($0) - layer.inputZero }
        let inPerGroup = g.inChannels / g.group, outPerGroup = g.outChannels / g.group
        let kernel = g.kernelHeight * g.kernelWidth, plane = g.inHeight * g.inWidth
        var out = [Int64](repeating: 0, count: g.batch * g.outChannels * g.outHeight * g.outWidth)
        var o = 0
        for n in 0..<g.batch {
            for oc in 0..<g.outChannels {
                let firstInput = (n * g.inChannels + (oc / outPerGroup) * inPerGroup) * plane
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        var sum = layer.bias[oc]
                        for ic in 0..<inPerGroup {
                            let w = (oc * inPerGroup + ic) * kernel, x = firstInput + ic * plane
                            forEachTap(g, oh, ow) { tap, offset in sum += xs[x + offset] * layer.centered[w + tap] }
                        }
                        out[o] = sum
                        o += 1
                    }
                }
            }
        }
        return out
    }

    /// x [N, K] times the weight ([M, K] when transposed, else [K, M]) plus the bias.
    static func dense(_ x: IntegerTensor, layer: IntegerLayer, transposed: Bool) -> [Int64] {
        let n = x.shape[0], k = x.shape[1], m = layer.scales.count
        var out = [Int64](repeating: 0, count: n * m)
        for i in 0..<n {
            for j in 0..<m {
                var sum = layer.bias[j]
                for t in 0..<k {
                    let w = transposed ? layer.centered[j * k + t] : layer.centered[t * m + j]
                    sum += (Int64(x.data[i * k + t]) - layer.inputZero) * w
                }
                out[i * m + j] = sum
            }
        }
        return out
    }

    /// Max over each window of an accumulator tensor; padded positions are skipped.
    static func maxPool(_ x: IntegerTensor, _ g: ConvGeometry) -> [Int64] {
        pool(x, g) { window in window.max() ?? 0 }
    }

    /// Sum over each window; the caller divides the channel scales by the window size, so no
    /// division happens here (only full windows are allowed, see `IntegerProgram`).
    static func sumPool(_ x: IntegerTensor, _ g: ConvGeometry) -> [Int64] {
        pool(x, g) { window in window.reduce(0, +) }
    }

    private static func pool(_ x: IntegerTensor, _ g: ConvGeometry, _ reduce: ([Int64]) -> Int64) -> [Int64] {
        let plane = g.inHeight * g.inWidth
        var out: [Int64] = []
        out.reserveCapacity(g.batch * g.outChannels * g.outHeight * g.outWidth)
        var window: [Int64] = []
        for p in 0..<(g.batch * g.inChannels) {
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    window.removeAll(keepingCapacity: true)
                    forEachTap(g, oh, ow) { _, offset in window.append(Int64(x.data[p * plane + offset])) }
                    out.append(reduce(window))
                }
            }
        }
        return out
    }

    /// Calls `body(tap, offset)` for each window position of output (oh, ow) that falls inside
    /// the input: its index in the kernel and its offset in the input plane. Padding is skipped.
    @inline(__always)
    private static func forEachTap(_ g: ConvGeometry, _ oh: Int, _ ow: Int, _ body: (Int, Int) -> Void) {
        for kh in 0..<g.kernelHeight {
            let ih = oh * g.strideH - g.padTop + kh * g.dilationH
            guard ih >= 0, ih < g.inHeight else { continue }
            for kw in 0..<g.kernelWidth {
                let iw = ow * g.strideW - g.padLeft + kw * g.dilationW
                guard iw >= 0, iw < g.inWidth else { continue }
                body(kh * g.kernelWidth + kw, ih * g.inWidth + iw)
            }
        }
    }
}

extension ConvGeometry {
    /// The output's spatial sizes in the input's rank: [H, W], or [W] for 1-D.
    var outputSpatial: [Int] { spatialRank == 2 ? [outHeight, outWidth] : [outWidth] }
}
