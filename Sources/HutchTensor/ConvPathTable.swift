/// The kernel path of one convolution.
public enum ConvPath: String, Sendable, CaseIterable {
    /// One input channel per group: direct loops (Kernels+Depthwise), any scalar; Float 3x3 and 5x5
    /// on vector kernels (Kernels+DepthwiseVector, `depthwiseVector`).
    case depthwise
    /// 1x1, no pads, groups or dilations: one product per example (Kernels+Pointwise), Float.
    case pointwise
    /// The AVX2 / AVX-512 direct kernels (Kernels+DirectConv, Kernels+DirectConvBackwardData), Float.
    case direct
    /// Several input channels per group: the direct kernels per group (Kernels+GroupedConv), Float.
    case grouped
    /// Winograd F(2x2, 3x3) (Kernels+Winograd), Float.
    case winograd
    /// Winograd F(4x4, 3x3) on Hutch's own AVX2 / AVX-512 products (Kernels+Winograd4), Float.
    case winograd4
    /// Winograd F(2x2, 3x3) one example at a time on the AVX2 kernels of `WinogradTiles`
    /// (Kernels+WinogradTiles), Float.
    case winograd2
    /// Winograd F(4x4, 3x3) one example at a time on the same kernels, Float.
    case winograd4PerExample
    /// im2col + GEMM, or GEMM + col2im for the data gradient (Kernels+Conv): any geometry. Float's
    /// forward and data-gradient products on `FixedOrderGemm` with AVX2 (Kernels+Im2colFixedOrder).
    case im2col
}

extension ConvPath {
    /// Whether the path's kernels add an `addend` as they store (`conv2DForward`; the data gradient
    /// as the transposed forward, or grouped): the others get it copied into the output first.
    var storesAddend: Bool { self == .direct || self == .grouped || winogradTile != nil }

    /// The output tile of the per-example Winograd paths (`winogradTilesForward`), nil for the others.
    var winogradTile: Int? { self == .winograd2 ? 2 : self == .winograd4PerExample ? 4 : nil }
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
///   forward and data gradient    depthwise geometry          -> depthwise (Float, direct on, 3x3
///                                or 5x5, no dilation: its vector kernels, `depthwiseVector`)
///                                Float, grouped geometry, > 1x1, direct on, few weights per group
///                                position; a strided data gradient only where its phases fit and
///                                OH * OW >= 196 -> grouped
///                                Float, pointwise geometry, few weights per position -> pointwise
///   forward                      Float, direct on, Winograd fits, C_in >= 64, OH, OW >= 14 -> winograd4
///                                Float, direct on, 3x3 stride 1, C_in and C_out >= 16, few weights
///                                per position: OH, OW >= 14 -> winograd4PerExample, else winograd2
///                                Float, > 1x1, direct on, Winograd fits, C_in >= 128, OH, OW >= 14 -> winograd
///                                Float, > 1x1, direct fits, few weights per position -> direct
///                                Float, Winograd fits, C_in >= 32, direct off -> winograd
///                                otherwise                   -> im2col
///   data gradient, stride 1      the forward rule on `transposed(g)` (dx = conv(dy, W flipped))
///   data gradient, strided       Float, direct phases fit, > 1x1, few weights per phase position
///                                -> direct, else im2col
///   weight gradient              depthwise geometry -> depthwise
///                                Float, > 1x1, direct fits, at most 4096 weights per position
///                                -> direct, else im2col
///
/// "Few weights per position": C_out * C_in * kH * kW / (OH * OW) at most `perExampleMaxWeights`
/// (1024). The direct and pointwise kernels run one example at a time and so stream every weight
/// once per example; where a layer has many weights and few output positions (ImageNet's 7x7 and
/// 14x14 stages) im2col's GEMM over a chunk of examples reuses them and wins. No ResNet-20 layer
/// comes near (at most 576). Direct convolutions run any output width (`PlaneVectors`).
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
///
/// Grouped convolutions (several input channels per group; Kernels+GroupedConv) on the direct
/// kernels per group against im2col's G small GEMMs, ResNeXt-50 32x4d's and RegNetY-400MF's 3x3
/// shapes (EngineBenchmark BENCH_GROUPED=1, batch 8, 2 threads, load 6-7;
/// results/grouped-conv-paths.txt), 1 block / 4 sharing the input / 4 sharing w, grouped vs im2col:
///   forward 128 g32 56x56:         65 / 83 / 65 vs 11 / 16 / 11;   data 67 / 84 / 66 vs 9 / 11 / 9
///   forward 1024 g32 7x7:          60 / 64 / 62 vs 23 / 43 / 24;   data 57 / 61 / 62 vs 17 / 22 / 20
///   forward 440 g55 14x14 s2:      19 / 34 / 19 vs 14 / 36 / 13
///   forward 208 g26 14x14:         51 / 52 / 45 vs 21 / 42 / 20
/// so every forward and stride-1 data gradient goes grouped (6-7x with one block where the GEMMs have
/// M = C_out / G = 4 rows, 1.4-4x at 8-32). The strided data gradient runs one group-1 phase call per example and block (its
/// weights packed per call unless cached); it wins on larger planes and loses on 7x7 outputs:
///   256 g32 56x56 s2 (OH*OW 784): 20 / 20 / 20 vs 11 / 12 / 11;  48 g6 112x112 s2: 29 / 29 / 30 vs 16 / 18 / 18
///   512 g32 28x28 s2 (196):       21 / 21 / 21 vs 14 / 16 / 14;  208 g26 28x28 s2 (196): 13 / 13 / 13 vs 12 / 13 / 13
///   1024 g32 14x14 s2 (49):       15 / 15 / 15 vs 25 / 22 / 20;  440 g55 14x14 s2 (49):   8 / 8 / 8 vs 13 / 12 / 11
/// hence `groupedDataMinPositions`.
///
/// The ImageNet shapes (EngineBenchmark BENCH_PATH_IMAGENET=1 BENCH_PATH_BATCH=8
/// BENCH_PATH_BLOCKS=4, AMD family 25 = Zen 4, whose AVX-512 runs at the AVX2 rate, on a machine
/// shared with other builds, load 8: +-15 %), 1 block / 4 sharing x / 4 sharing w, direct (or
/// pointwise) vs Winograd vs im2col; weights per position in brackets:
///   3->64 224x224 7x7 s2 [3]:        93 / 100 / 96 vs  - vs 45 / 59 / 47
///   64->64 56x56 3x3 [12]:           81 / 91 / 92 vs 104 / 121 / 90 vs 53 / 63 / 54
///   128->128 28x28 3x3 [188]:        92 / 92 / 93 vs 120 / 122 / 108 vs 72 / 81 / 67
///   256->256 14x14 3x3 [3009]:       90 / 85 / 85 vs 103 / 111 / 113 vs 77 / 91 / 68
///   512->512 7x7 3x3 [48148]:        51 / 59 / 52 vs 53 / 58 / 66 vs 71 / 80 / 68
///   64->128 56x56 3x3 s2 [94]:       67 / 73 / 74 vs 57 / 72 / 59;  data 63 / 65 / 65 vs 56 / 65 / 56
///   128->256 28x28 3x3 s2 [1505]:    68 / 78 / 70 vs 70 / 88 / 69;  data 58 / 67 / 73 vs 68 / 80 / 68
///   256->512 14x14 3x3 s2 [24074]:   44 / 61 / 68 vs 72 / 86 / 78;  data 31 / 41 / 52 vs 71 / 79 / 78
///   64->128 56x56 1x1 s2 [10]:       55 / 86 / 69 vs 42 / 54 / 56
///   128->256 28x28 1x1 s2 [167]:     76 / 80 / 69 vs 74 / 79 / 66
///   256->512 14x14 1x1 s2 [2675]:    40 / 45 / 45 vs 63 / 74 / 70
///   1024->256 14x14 1x1 [1337]:      55 / 63 / 59 vs 76 / 86 / 80;  data 81 / 79 / 83 vs 73 / 72 / 76
///   512->2048 7x7 1x1 [21400]:       54 / 49 / 62 vs 86 / 87 / 88;  data 56 / 51 / 55 vs 86 / 88 / 76
/// Winograd F(4x4, 3x3) on its own AVX2 / AVX-512 products, the same ImageNet table
/// (results/conv-paths-imagenet-winograd4.txt, load 7-9), direct / F(2x2) / im2col / F(4x4):
///   64->64 56x56 3x3:     100 / 121 / 64 / 156;  101 / 138 / 70 / 205;  99 / 117 / 61 / 139
///   128->128 28x28 3x3:    94 / 119 / 72 / 152;   96 / 142 / 85 / 216;  95 / 136 / 76 / 179
///   256->256 14x14 3x3:    93 / 115 / 87 / 141;   92 / 120 / 93 / 168;  93 / 131 / 80 / 159
///   512->512 7x7 3x3:      66 /  55 / 85 /  77;   72 /  59 / 94 /  89;  75 /  78 / 85 / 128
/// So F(4x4) first from 64 input channels on planes of at least 14x14 (stride-1 data gradients
/// with C_out >= 64 likewise, as the transposed forward). At 7x7 it wins only where blocks share
/// the weights (one transform of 512 x 512 x 36 weights per call otherwise), and would hold
/// 36 x 1 MiB of transformed weights per block: im2col stays there.
/// On ResNet-20's 3x3 stride-1 shapes (batch 128 and 8, 4 blocks, load 4-5;
/// results/conv-paths-resnet20-winograd4*.txt, three runs), direct (AVX-512) vs F(4x4):
///   16->16 32x32:  96-103 / 106-111 / 97-105 vs 43-45 / 77-93 / 43-49
///   32->32 16x16:  98-107 / 107-110 / 102-108 vs 61-66 / 111-119 / 61-69
///   64->64 8x8:    93-96 / 99-108 / 95-96 vs 56-80 / 104-121 / 72-83
/// F(4x4) wins only where blocks share the input (its input transform is then done once), and
/// loses more where they share the weights; a probe runs both kinds in equal parts and this rule
/// does not look at sharing, so these shapes stay direct. A probe with F(4x4) on all of them took
/// 1.41x the CPU seconds, on the 64->64 ones only 1.05x (results/resnet20-winograd4*-probe-ab.txt).
/// The per-example F(2x2, 3x3) (Kernels+WinogradTiles: transforms 8 tiles at a time, the input's once
/// for all blocks sharing it, products on the direct kernel's register tile) on the same shapes,
/// Zen 3 with AVX2, batch 32, 4 blocks (results/conv-paths-resnet20-winograd2.txt, column "2"),
/// direct vs per-example F(2x2):
///   16->16 32x32:  84 / 90 / 82 vs 81 / 109 / 74
///   32->32 16x16:  88 / 93 / 87 vs 97 / 131 / 100
///   64->64 8x8:    82 / 72 / 127 vs 66 / 114 / 109 (a noisy row)
/// It wins where blocks share the input and about breaks even where they share the weights; on a
/// probe's mix ResNet-20 took 0.92x the CPU (results/resnet20-winograd2-probe-ab.txt), so it goes
/// before direct from `winograd2FirstChannels` (16) input and output channels, after F(4x4), with
/// the direct kernel's limit on weights per position (its transformed weights stream once per
/// example too). Not measured on AVX-512 CPUs, where the direct kernel runs wider than its
/// transforms.
/// The per-example F(4x4, 3x3) on the same kernels (36 products per 4x4 tile where F(2x2) needs
/// 64) against it, same setting (results/conv-paths-resnet20-winograd4pe.txt, columns "2" and "e",
/// a slower hour for both):
///   16->16 32x32:  62 / 63 / 76 vs 63 / 76 / 86
///   32->32 16x16:  74 / 93 / 78 vs 80 / 108 / 86
///   64->64 8x8:    77 / 94 / 86 vs 31 / 37 / 33 (2x2 tiles: half of each vector's lanes empty)
/// A probe of ResNet-20 took 0.91x the CPU and 0.88x the wall time with it on the 32x32 and 16x16
/// planes (results/resnet20-winograd4pe-probe-ab-2.txt), so it goes first on planes from
/// `winograd4PerExampleFirstSize` (14: a vector's 8 tiles then at most a quarter past the plane).
/// Before it: Winograd first from 128 input channels on planes of at least 14x14 (at 64 channels it wins at
/// 56x56 here but loses on ResNet-20's 8x8 and 16x16 planes, README "Performance"), im2col past
/// 1024 weights per position, direct and pointwise below (the strided data gradient's phases are
/// the positions there: 1505 at 28x28 s2, where im2col wins).
///
/// The weight gradient's direct kernels (Kernels+DirectWeightGradient) against im2col + GEMM,
/// EngineBenchmark's "backward weight" rows (batch 128, 2 threads, 1 block / 4 sharing x / 4
/// sharing dy, load 9-10; results/weight-gradient-paths-resnet20.txt), direct vs im2col:
///   16->16 32x32 3x3:    69 / 91 / 93 vs 27 / 31 / 26
///   32->64 16x16 3x3 s2: 53 / 82 / 75 vs 40 / 56 / 43
///   64->64 8x8 3x3:      88 / 100 / 101 vs 44 / 58 / 43
///   3->16 32x32 3x3:     32 / 48 / 59 vs 24 / 27 / 26
///   32->64 16x16 1x1 s2: 12 / 26 / 24 vs 35 / 42 / 37
///   64->64 7x7 1x1:      26 / 48 / 42 vs 48 / 57 / 44
/// and the ImageNet shapes (BENCH_PATH_IMAGENET=1 BENCH_PATH_BATCH=8, load 10;
/// results/weight-gradient-paths-imagenet.txt), weights per position in brackets:
///   3->64 224x224 7x7 s2 [1]:      48 / 64 / 76 vs 49 / 62 / 54
///   64->64 56x56 3x3 [12]:         88 / 99 / 103 vs 64 / 71 / 61
///   128->128 28x28 3x3 [188]:      96 / 100 / 105 vs 69 / 83 / 74
///   128->256 28x28 3x3 s2 [1505]:  83 / 93 / 93 vs 85 / 92 / 86
///   256->256 14x14 3x3 [3009]:     93 / 95 / 96 vs 83 / 92 / 84
///   256->512 14x14 3x3 s2 [24074]: 87 / 66 / 65 vs 86 / 91 / 87
///   512->512 7x7 3x3 [48148]:      87 / 68 / 67 vs 85 / 93 / 86
///   1x1 kernels:                   25-75 vs 60-90
/// So direct for kernels larger than 1x1 that fit, up to `weightGradientMaxWeights` (4096)
/// weights per output position: its accumulator (a block's weights) is read and written once per
/// example, which pays only where an example has enough positions per weight (at 7x7 with a
/// million weights, four blocks' accumulators stream from memory). 1x1 kernels keep im2col
/// (a plain copy there), while the direct kernel pads and transposes per example for few FLOPs.
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

    /// Weights per output position up to which the per-example kernels (direct, pointwise) run.
    public static let perExampleMaxWeights = 1024
    /// Weights per output position up to which the weight gradient runs direct.
    public static let weightGradientMaxWeights = 4096
    /// Input channels and output height and width from which Winograd goes before direct.
    public static let winogradFirstChannels = 128, winogradFirstSize = 14
    /// Input channels and output height and width from which Winograd F(4x4, 3x3) goes first.
    public static let winograd4FirstChannels = 64, winograd4FirstSize = 14
    /// Input and output channels from which the per-example F(2x2, 3x3) goes before direct.
    public static let winograd2FirstChannels = 16
    /// Output height and width from which the per-example F(4x4, 3x3) goes before its F(2x2).
    public static let winograd4PerExampleFirstSize = 14
    /// Output positions (OH * OW) from which a strided grouped data gradient runs on the kernels.
    public static let groupedDataMinPositions = 196

    public func path(_ g: ConvGeometry, _ direction: ConvDirection, float: Bool) -> ConvPath {
        if Kernels.isDepthwise(g) { return .depthwise }
        if direction != .backwardWeight, float, grouped(g, direction) { return .grouped }
        if direction == .backwardWeight, float, directWeight(g) { return .direct }
        guard direction != .backwardWeight, float else { return .im2col }
        if Kernels.isPointwise(g) { return pointwise(g) ? .pointwise : .im2col }
        if direction == .forward { return forwardFloat(g) }
        if let t = transposed(g) { return forwardFloat(t) }
        return directData(g) ? .direct : .im2col
    }

    /// The forward paths after depthwise and pointwise, for Float.
    private func forwardFloat(_ g: ConvGeometry) -> ConvPath {
        if winograd4(g) { return .winograd4 }
        if winograd4PerExample(g) { return .winograd4PerExample }
        if winograd2(g) { return .winograd2 }
        if directEnabled && winograd(g) && g.inChannels >= Self.winogradFirstChannels
            && min(g.outHeight, g.outWidth) >= Self.winogradFirstSize { return .winograd }
        if direct(g) { return .direct }
        return winograd(g) && !directEnabled ? .winograd : .im2col
    }

    /// C_out * C_in * kH * kW per output position of `positions` (OH * OW, or a stride phase's).
    static func fewWeights(_ g: ConvGeometry, positions: Int) -> Bool {
        g.weightCount <= perExampleMaxWeights * positions
    }

    /// The geometry whose forward convolution computes this one's data gradient (stride 1, see
    /// `ConvGeometry.strideOneTranspose`), nil where the data gradient runs as such.
    public func transposed(_ g: ConvGeometry) -> ConvGeometry? {
        overrides.convTranspose ? g.strideOneTranspose : nil
    }

    func pointwise(_ g: ConvGeometry) -> Bool {
        overrides.pointwise && Kernels.isPointwise(g) && Self.fewWeights(g, positions: g.outSpatial)
    }

    func direct(_ g: ConvGeometry) -> Bool {
        directEnabled && g.kernelHeight * g.kernelWidth > 1 && Self.fewWeights(g, positions: g.outSpatial)
            && Kernels.directShape(g) != nil
    }

    func directData(_ g: ConvGeometry) -> Bool {
        directEnabled && g.kernelHeight * g.kernelWidth > 1
            && Self.fewWeights(g, positions: g.inSpatial / (g.strideH * g.strideW)) && Kernels.directDataPhases(g) != nil
    }

    /// Grouped convolutions on the direct kernels per group (Kernels+GroupedConv): the forward and
    /// the data gradient, with few weights per position of one group (a data gradient's positions
    /// are its stride phase's, as in `directData`).
    func grouped(_ g: ConvGeometry, _ direction: ConvDirection) -> Bool {
        let data = direction == .backwardData
        guard directEnabled, overrides.grouped, g.kernelHeight * g.kernelWidth > 1,
              Kernels.groupedFits(g, transposed: data) else { return false }
        if data && g.strideH * g.strideW > 1 && g.outSpatial < Self.groupedDataMinPositions { return false }
        return Self.fewWeights(Kernels.groupSlices(g), positions: data ? g.inSpatial / (g.strideH * g.strideW) : g.outSpatial)
    }

    /// The weight gradient's direct rule (Kernels+DirectWeightGradient).
    func directWeight(_ g: ConvGeometry) -> Bool {
        directEnabled && overrides.directWeight && g.kernelHeight * g.kernelWidth > 1
            && g.weightCount <= Self.weightGradientMaxWeights * g.outSpatial && Kernels.directShape(g) != nil
    }

    /// The depthwise path's vector kernels (Kernels+DepthwiseVector) for Float: AVX2 + FMA, 3x3 or
    /// 5x5 without dilation; the scalar loops otherwise.
    public func depthwiseVector(_ g: ConvGeometry) -> Bool {
        directEnabled && overrides.depthwiseVector && Kernels.depthwiseVectorFits(g)
    }

    /// F(4x4, 3x3): AVX2 + FMA (its products' bits), 3x3 stride 1, from `winograd4FirstChannels`
    /// input channels on planes from `winograd4FirstSize`.
    func winograd4(_ g: ConvGeometry) -> Bool {
        directEnabled && overrides.winograd4 && g.inChannels >= Self.winograd4FirstChannels
            && min(g.outHeight, g.outWidth) >= Self.winograd4FirstSize && Kernels.winogradShapeFits(g)
    }

    /// The per-example F(2x2, 3x3) (Kernels+WinogradTiles): AVX2 + FMA, 3x3 stride 1, from
    /// `winograd2FirstChannels` input and output channels, few weights per position (its
    /// transformed weights, 16/9 of them, stream once per example as the direct kernel's do).
    func winograd2(_ g: ConvGeometry) -> Bool {
        directEnabled && overrides.winograd2 && Kernels.winogradTilesShapeFits(g) && g.inChannels >= Self.winograd2FirstChannels
            && g.outChannels >= Self.winograd2FirstChannels && Self.fewWeights(g, positions: g.outSpatial)
    }

    /// The per-example F(4x4, 3x3): the per-example F(2x2)'s rule, on planes of at least
    /// `winograd4PerExampleFirstSize` (a vector's 8 tiles are then at most a quarter empty).
    func winograd4PerExample(_ g: ConvGeometry) -> Bool {
        overrides.winograd4PerExample && min(g.outHeight, g.outWidth) >= Self.winograd4PerExampleFirstSize && winograd2(g)
    }

    func winograd(_ g: ConvGeometry) -> Bool {
        overrides.winograd && g.inChannels >= overrides.winogradMinChannels && Kernels.winogradShapeFits(g)
    }
}
