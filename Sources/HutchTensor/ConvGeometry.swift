/// Sizes of one NCHW convolution (or pooling window), validated once so that kernels can run
/// on raw pointers without checks. 1-D convolutions ([N, C, W]) are mapped to height 1.
public struct ConvGeometry: Sendable, Hashable {
    public var batch: Int, inChannels: Int, inHeight: Int, inWidth: Int
    public var outChannels: Int, kernelHeight: Int, kernelWidth: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    public var dilationH: Int, dilationW: Int
    public var group: Int
    public var outHeight: Int, outWidth: Int
    /// Spatial rank of the original tensors (1 or 2), to give outputs their shape back.
    public var spatialRank: Int

    /// Convolution geometry from an input shape [N, C, (H,) W] and a weight shape
    /// [C_out, C_in / group, (kH,) kW] with ONNX-ordered pads.
    public init(input: [Int], weight: [Int], strides: [Int], pads: [Int], dilations: [Int],
                group: Int) throws(ShapeError) {
        guard input.count == 3 || input.count == 4 else {
            throw ShapeError("convolution input must be [N, C, H, W] or [N, C, W], got \(input)")
        }
        guard weight.count == input.count else {
            throw ShapeError("convolution weight \(weight) does not match input rank \(input.count)")
        }
        guard group >= 1, input[1] % group == 0, weight[0] % group == 0, weight[1] * group == input[1] else {
            throw ShapeError("convolution channels do not match: input \(input), weight \(weight), group \(group)")
        }
        try self.init(input: input, channelsOut: weight[0], kernel: Array(weight.dropFirst(2)),
                      strides: strides, pads: pads, dilations: dilations, group: group, ceilMode: false)
    }

    /// Pooling geometry (channels out = channels in, group = channels).
    public init(poolInput input: [Int], kernel: [Int], strides: [Int], pads: [Int], dilations: [Int],
                ceilMode: Bool) throws(ShapeError) {
        guard input.count == 3 || input.count == 4 else {
            throw ShapeError("pooling input must be [N, C, H, W] or [N, C, W], got \(input)")
        }
        try self.init(input: input, channelsOut: input[1], kernel: kernel, strides: strides, pads: pads,
                      dilations: dilations, group: input[1], ceilMode: ceilMode)
    }

    private init(input: [Int], channelsOut: Int, kernel: [Int], strides: [Int], pads: [Int],
                 dilations: [Int], group: Int, ceilMode: Bool) throws(ShapeError) {
        let r = input.count - 2
        let strides = strides.isEmpty ? Array(repeating: 1, count: r) : strides
        let dilations = dilations.isEmpty ? Array(repeating: 1, count: r) : dilations
        let pads = pads.isEmpty ? Array(repeating: 0, count: 2 * r) : pads
        guard kernel.count == r, strides.count == r, dilations.count == r, pads.count == 2 * r else {
            throw ShapeError("kernel \(kernel), strides \(strides), dilations \(dilations), pads \(pads) do not fit input \(input)")
        }
        guard kernel.allSatisfy({ $0 >= 1 }), strides.allSatisfy({ $0 >= 1 }),
              dilations.allSatisfy({ $0 >= 1 }), pads.allSatisfy({ $0 >= 0 }), input.allSatisfy({ $0 >= 0 }) else {
            throw ShapeError("kernel \(kernel), strides \(strides), dilations \(dilations) must be positive and pads \(pads) non-negative")
        }
        spatialRank = r
        batch = input[0]; inChannels = input[1]; outChannels = channelsOut; self.group = group
        if r == 2 {
            inHeight = input[2]; inWidth = input[3]
            kernelHeight = kernel[0]; kernelWidth = kernel[1]
            strideH = strides[0]; strideW = strides[1]
            dilationH = dilations[0]; dilationW = dilations[1]
            padTop = pads[0]; padLeft = pads[1]; padBottom = pads[2]; padRight = pads[3]
        } else {
            inHeight = 1; inWidth = input[2]
            kernelHeight = 1; kernelWidth = kernel[0]
            strideH = 1; strideW = strides[0]
            dilationH = 1; dilationW = dilations[0]
            padTop = 0; padLeft = pads[0]; padBottom = 0; padRight = pads[1]
        }
        func outSize(_ size: Int, _ k: Int, _ s: Int, _ d: Int, _ p0: Int, _ p1: Int) -> Int {
            let span = size + p0 + p1 - ((k - 1) * d + 1)
            if span < 0 { return 0 }
            var out = (ceilMode ? (span + s - 1) / s : span / s) + 1
            // As PyTorch: the last window must start inside the input or the left padding.
            if ceilMode && (out - 1) * s >= size + p0 { out -= 1 }
            return out
        }
        outHeight = outSize(inHeight, kernelHeight, strideH, dilationH, padTop, padBottom)
        outWidth = outSize(inWidth, kernelWidth, strideW, dilationW, padLeft, padRight)
        guard outHeight >= 1, outWidth >= 1 else {
            throw ShapeError("input \(input) is smaller than the window \(kernel) with dilations \(dilations) and pads \(pads)")
        }
    }

    @inlinable public var inSpatial: Int { inHeight * inWidth }
    @inlinable public var outSpatial: Int { outHeight * outWidth }
    @inlinable public var inChannelsPerGroup: Int { inChannels / group }
    @inlinable public var outChannelsPerGroup: Int { outChannels / group }
    /// Rows of the im2col matrix of one group: C_in/group * kH * kW.
    @inlinable public var patchSize: Int { inChannelsPerGroup * kernelHeight * kernelWidth }
    @inlinable public var weightCount: Int { outChannels * patchSize }
    @inlinable public var inputCount: Int { batch * inChannels * inSpatial }
    @inlinable public var outputCount: Int { batch * outChannels * outSpatial }

    /// The output shape with the original spatial rank.
    public var outputShape: [Int] {
        spatialRank == 2 ? [batch, outChannels, outHeight, outWidth] : [batch, outChannels, outWidth]
    }

    /// The same geometry for `blocks` times the batch (k probes stacked along the batch).
    public func withBatch(_ n: Int) -> ConvGeometry {
        var g = self
        g.batch = n
        return g
    }
}
