import Foundation

/// The kernels' environment switches, read here and nowhere else (once per process). They exist
/// for benchmarks and comparisons; the defaults are the measured choices, and none of the bit
/// guarantees depend on them except where noted.
///
///   HUTCH_THREADS=N               threads the kernels use when the program sets none (default:
///                                 all cores)
///   HUTCH_DIRECT_CONV=0           no direct AVX2 / AVX-512 kernels: convolutions take the paths
///                                 before them (Winograd, im2col; pointwise on its GEMM engine)
///   HUTCH_AVX512=0                direct kernels on their AVX2 build only (same bits)
///   HUTCH_POINTWISE=0             1x1 convolutions back on im2col + GEMM
///   HUTCH_WINOGRAD=0              no Winograd: its convolutions on im2col + GEMM
///   HUTCH_WINOGRAD4=0             no Winograd F(4x4, 3x3): its convolutions take the paths after it
///   HUTCH_WINOGRAD4_PER_EXAMPLE=0 no per-example Winograd F(4x4, 3x3) (Kernels+WinogradTiles):
///                                 its convolutions take the paths after it
///   HUTCH_WINOGRAD2=0             no per-example Winograd F(2x2, 3x3) (Kernels+WinogradTiles): its
///                                 convolutions take the paths after it
///   HUTCH_WINOGRAD_TILES_AVX512=1 the per-example Winograd's products on their AVX-512 build (16
///                                 lanes, the same sums) where the CPU has it; the default runs the
///                                 AVX2 build everywhere, since the AVX-512 one has not yet run on
///                                 AVX-512 hardware to confirm its bits (Kernels+WinogradTiles)
///   HUTCH_WINOGRAD_MIN_CHANNELS=N input channels from which Winograd applies (default 32)
///   HUTCH_WINOGRAD_MERGE=1        Winograd runs blocks sharing an input as one GEMM (with
///                                 HUTCH_MERGE_BLOCKS' bit caveat)
///   HUTCH_MERGE_BLOCKS=1          im2col runs blocks sharing an input as one GEMM: a block's bits
///                                 then depend on the block count of its call
///   HUTCH_CONV_TRANSPOSE=0        the stride-1 data gradient by GEMM + col2im instead of as the
///                                 forward convolution of the transposed geometry
///   HUTCH_DIRECT_WEIGHT=0         the weight gradient on im2col + GEMM instead of the direct
///                                 kernels (Kernels+DirectWeightGradient)
///   HUTCH_DEPTHWISE_VECTOR=0      depthwise convolutions on the scalar loops (Kernels+Depthwise)
///                                 instead of the vector kernels (Kernels+DepthwiseVector)
///   HUTCH_GROUPED=0               grouped convolutions (several input channels per group) on
///                                 im2col + GEMM instead of the direct kernels per group
///                                 (Kernels+GroupedConv)
///   HUTCH_IM2COL_FIXED=0          im2col's Float forward and data-gradient products on OpenBLAS
///                                 instead of `FixedOrderGemm`: an example's bits then depend on
///                                 the examples that share its chunk (Kernels+Im2colFixedOrder)
///   HUTCH_GEMM_FIXED=0            Gemm's and MatMul's Float products on OpenBLAS in calls of 8
///                                 zero-padded rows instead of `FixedOrderGemm` (the same bits
///                                 per row on Zen 3 as measured, slower; Kernels+GemmFixedOrder)
///   HUTCH_ZERO_CHANNELS=0         the direct kernels run every input channel, also those whose
///                                 plane is all zeros (`DirectVectors.keptSteps`; same bits)
///
/// `ConvPathTable` turns them, the CPU's features and a convolution's shape into its path.
public struct KernelOverrides: Sendable, Hashable {
    public var threads: Int? = nil
    public var directConv = true
    public var avx512 = true
    public var pointwise = true
    public var winograd = true
    public var winograd4 = true
    public var winograd4PerExample = true
    public var winograd2 = true
    public var winogradTilesAVX512 = false
    public var winogradMinChannels = 32
    public var winogradMerge = false
    public var mergeBlocks = false
    public var convTranspose = true
    public var directWeight = true
    public var depthwiseVector = true
    public var grouped = true
    public var zeroChannels = true
    public var im2colFixedOrder = true
    public var gemmFixedOrder = true

    /// The defaults: the measured choices.
    public init() {}

    /// The switches above from an environment; unset or unparsable values keep the defaults.
    public init(environment env: [String: String]) {
        if let n = Int(env["HUTCH_THREADS"] ?? ""), n >= 1 { threads = n }
        directConv = env["HUTCH_DIRECT_CONV"] != "0"
        avx512 = env["HUTCH_AVX512"] != "0"
        pointwise = env["HUTCH_POINTWISE"] != "0"
        winograd = env["HUTCH_WINOGRAD"] != "0"
        winograd4 = env["HUTCH_WINOGRAD4"] != "0"
        winograd4PerExample = env["HUTCH_WINOGRAD4_PER_EXAMPLE"] != "0"
        winograd2 = env["HUTCH_WINOGRAD2"] != "0"
        winogradTilesAVX512 = env["HUTCH_WINOGRAD_TILES_AVX512"] == "1"
        winogradMinChannels = Int(env["HUTCH_WINOGRAD_MIN_CHANNELS"] ?? "") ?? 32
        winogradMerge = env["HUTCH_WINOGRAD_MERGE"] == "1"
        mergeBlocks = env["HUTCH_MERGE_BLOCKS"] == "1"
        convTranspose = env["HUTCH_CONV_TRANSPOSE"] != "0"
        directWeight = env["HUTCH_DIRECT_WEIGHT"] != "0"
        depthwiseVector = env["HUTCH_DEPTHWISE_VECTOR"] != "0"
        grouped = env["HUTCH_GROUPED"] != "0"
        zeroChannels = env["HUTCH_ZERO_CHANNELS"] != "0"
        im2colFixedOrder = env["HUTCH_IM2COL_FIXED"] != "0"
        gemmFixedOrder = env["HUTCH_GEMM_FIXED"] != "0"
    }

    /// This process's switches, read once.
    public static let process = KernelOverrides(environment: ProcessInfo.processInfo.environment)
}
