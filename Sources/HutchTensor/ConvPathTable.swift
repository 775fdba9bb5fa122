/// The kernel path of one convolution.
public enum ConvPath: String, Sendable, CaseIterable {
    /// One input channel per group: direct loops (Kernels+Depthwise), any scalar.
    case depthwise
    /// 1x1, no pads, groups or dilations: one product per example (Kernels+Pointwise), Float.
    case pointwise
    /// The AVX2 / AVX-512 direct kernels (Kernels+DirectConv, Kernels+DirectConvBackwardData), Float.
    case direct
    /// Winograd F(2x2, 3x3) (Kernels+Winograd), Float.
    case winograd
    /// im2col + GEMM, or GEMM + col2im for the data gradient (Kernels+Conv): any geometry.
    case im2col
}

/// Which of a convolution's three products is computed.
public enum ConvDirection: Sendable, CaseIterable {
    case forward, backwardData, backwardWeight
}

/// The one rule that picks a convolution's path from its shape, direction, scalar type, the CPU's
/// features and the switches of `KernelOverrides`. It depends on nothing else (never on the
/// block count or shared operands), so a probe's bits do not depend on which probes share its
/// call. In order, first match wins:
///
///   forward and data gradient    depthwise geometry          -> depthwise
///                                Float, pointwise geometry   -> pointwise
///   forward                      Float, direct fits, > 1x1   -> direct
///                                Float, Winograd fits, C_in >= 32 -> winograd
///                                otherwise                   -> im2col
///   data gradient, stride 1      the forward rule on `transposed(g)` (dx = conv(dy, W flipped))
///   data gradient, strided       Float, direct phases fit, > 1x1 -> direct, else im2col
///   weight gradient              depthwise geometry -> depthwise, else im2col
///
/// Measured with EngineBenchmark's path tables (GFLOP per CPU-second, 2 threads, batch 128;
/// 1 block / 8 blocks sharing x / 8 sharing w), direct with AVX-512, AVX2 only, the others:
///   3->16 32x32 3x3:     AVX-512 160 / 180 / 129, AVX2 97 / 103 / 89,  im2col 50 / 62 / 46
///   16->16 32x32 3x3:    AVX-512 154 / 194 / 154, AVX2 92 / 105 / 91,  im2col 54 / 71 / 54,  Winograd 53 / 81 / 53
///   16->32 32x32 3x3 s2: AVX-512  88 / 167 /  98, AVX2 67 /  98 / 66,  im2col 50 / 78 / 50
///   32->32 16x16 3x3:    AVX-512 167 / 203 / 166, AVX2 96 / 108 / 94,  Winograd 73 / 108 / 67
///   32->64 16x16 3x3 s2: AVX-512 105 / 177 / 103, AVX2 73 /  96 / 73,  im2col 51 / 86 / 56
///   64->64 8x8 3x3:      AVX-512 153 / 193 / 151, AVX2 96 / 101 / 95,  Winograd 80 / 117 / 83
/// So direct for every kernel larger than 1x1 that fits (OW a multiple of 8, no groups or
/// dilations). With AVX2 only, Winograd wins on a shared input at 64 channels (117 vs 101), but
/// a probe's passes are half shared-x and half shared-w: on average direct is no slower. 1x1
/// kernels go pointwise (Kernels+Pointwise has its table); the direct kernel's padding copy does
/// not pay there (16->32 32x32 1x1 s2: 25 / 81 / 23 vs im2col 40 / 51 / 31). Winograd from 32
/// input channels: with 16 its GEMMs have K = 16 and the transforms cost what they save. The
/// strided data gradient on the direct kernel (AVX-512; AVX2) vs GEMM + col2im:
///   16->32 32x32 3x3 s2: 75 / 105 / 73; 55 / 71 / 56  vs 48 / 48 / 48
///   32->64 16x16 3x3 s2: 76 / 118 / 71; 61 / 77 / 60  vs 62 / 56 / 54
/// Double was not measured: it keeps im2col (and depthwise).
public struct ConvPathTable: Sendable {
    public var cpu: CPUFeatures
    public var overrides: KernelOverrides

    public init(cpu: CPUFeatures, overrides: KernelOverrides = KernelOverrides()) {
        self.cpu = cpu
        self.overrides = overrides
    }

    /// This process's table: the host CPU and the environment's switches.
    public static let host = ConvPathTable(cpu: .host, overrides: .process)

    /// Whether the direct kernels run at all, and on their AVX-512 build where a shape allows.
    public var directEnabled: Bool { cpu.avx2FMA && overrides.directConv }
    public var avx512Enabled: Bool { cpu.avx512 && overrides.avx512 }

    public func path(_ g: ConvGeometry, _ direction: ConvDirection, float: Bool) -> ConvPath {
        if Kernels.isDepthwise(g) { return .depthwise }
        guard direction != .backwardWeight, float else { return .im2col }
        if pointwise(g) { return .pointwise }
        if direction == .forward { return forwardFloat(g) }
        if let t = transposed(g) { return forwardFloat(t) }
        return directData(g) ? .direct : .im2col
    }

    /// The forward paths after depthwise and pointwise, for Float.
    private func forwardFloat(_ g: ConvGeometry) -> ConvPath {
        direct(g) ? .direct : winograd(g) ? .winograd : .im2col
    }

    /// The geometry whose forward convolution computes this one's data gradient (stride 1, see
    /// `ConvGeometry.strideOneTranspose`), nil where the data gradient runs as such.
    public func transposed(_ g: ConvGeometry) -> ConvGeometry? {
        overrides.convTranspose ? g.strideOneTranspose : nil
    }

    func pointwise(_ g: ConvGeometry) -> Bool {
        overrides.pointwise && Kernels.isPointwise(g)
    }

    func direct(_ g: ConvGeometry) -> Bool {
        directEnabled && g.kernelHeight * g.kernelWidth > 1 && Kernels.directShape(g) != nil
    }

    func directData(_ g: ConvGeometry) -> Bool {
        directEnabled && g.kernelHeight * g.kernelWidth > 1 && Kernels.directDataPhases(g) != nil
    }

    func winograd(_ g: ConvGeometry) -> Bool {
        overrides.winograd && g.inChannels >= overrides.winogradMinChannels && Kernels.winogradShapeFits(g)
    }
}
