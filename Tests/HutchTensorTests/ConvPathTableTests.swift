import XCTest
@testable import HutchTensor

/// The convolution path table (ConvPathTable) on fixed CPU features: shapes to paths, and every
/// switch of KernelOverrides honoured.
final class ConvPathTableTests: XCTestCase {
    let avx512 = ConvPathTable(cpu: CPUFeatures(avx2FMA: true, avx512: true))
    let avx2 = ConvPathTable(cpu: CPUFeatures(avx2FMA: true, avx512: false))
    let plain = ConvPathTable(cpu: CPUFeatures(avx2FMA: false, avx512: false))

    func conv(_ input: [Int], _ weight: [Int], stride: Int = 1, pad: Int = 0, group: Int = 1) throws -> ConvGeometry {
        try ConvGeometry(input: input, weight: weight, strides: [stride, stride], pads: [pad, pad, pad, pad],
                         dilations: [1, 1], group: group)
    }

    func paths(_ table: ConvPathTable, _ g: ConvGeometry, float: Bool = true) -> [ConvPath] {
        ConvDirection.allCases.map { table.path(g, $0, float: float) }
    }

    func testShapesChoosePaths() throws {
        // (geometry, [forward, data, weight] with AVX2 + FMA, the same without)
        let rows: [(ConvGeometry, [ConvPath], [ConvPath])] = [
            (try conv([2, 8, 8, 8], [8, 1, 3, 3], pad: 1, group: 8), [.depthwise, .depthwise, .depthwise],
             [.depthwise, .depthwise, .depthwise]),
            (try conv([2, 16, 32, 32], [32, 16, 1, 1], stride: 2), [.pointwise, .pointwise, .im2col],
             [.pointwise, .pointwise, .im2col]),
            (try conv([2, 64, 8, 8], [64, 64, 1, 1]), [.pointwise, .pointwise, .im2col], [.pointwise, .pointwise, .im2col]),
            (try conv([2, 3, 32, 32], [16, 3, 3, 3], pad: 1), [.direct, .direct, .direct], [.im2col, .im2col, .im2col]),
            // 3x3 stride 1 from 16 channels in and out: the per-example F(4x4, 3x3) with AVX2 on planes
            // from 14x14, forward and data gradient (the transposed forward); the weight gradient
            // stays direct
            (try conv([2, 16, 32, 32], [16, 16, 3, 3], pad: 1), [.winograd4PerExample, .winograd4PerExample, .direct],
             [.im2col, .im2col, .im2col]),
            (try conv([2, 32, 16, 16], [32, 32, 3, 3], pad: 1), [.winograd4PerExample, .winograd4PerExample, .direct],
             [.winograd, .winograd, .im2col]),
            (try conv([2, 32, 14, 20], [32, 32, 3, 3], pad: 1), [.winograd4PerExample, .winograd4PerExample, .direct],
             [.winograd, .winograd, .im2col]),
            // under 14x14 its F(2x2)
            (try conv([2, 32, 13, 20], [32, 32, 3, 3], pad: 1), [.winograd2, .winograd2, .direct], [.winograd, .winograd, .im2col]),
            (try conv([2, 8, 16, 16], [16, 8, 3, 3], pad: 1), [.direct, .direct, .direct], [.im2col, .im2col, .im2col]),
            // the data gradient of 16 -> 32 channels runs as 32 -> 16: Winograd there
            (try conv([2, 16, 16, 16], [32, 16, 3, 3], pad: 1), [.winograd4PerExample, .winograd4PerExample, .direct],
             [.im2col, .winograd, .im2col]),
            (try conv([2, 32, 16, 16], [64, 32, 3, 3], stride: 2, pad: 1), [.direct, .direct, .direct],
             [.im2col, .im2col, .im2col]),
            // ResNet-20's 64 -> 64 8x8 stage: not F(4x4), which cost a probe more there (ConvPathTable)
            (try conv([2, 64, 8, 8], [64, 64, 3, 3], pad: 1), [.winograd2, .winograd2, .direct], [.winograd, .winograd, .im2col]),
            // output width 6 and 7; Winograd from 32 channels without AVX2
            (try conv([2, 32, 6, 6], [32, 32, 3, 3], pad: 1), [.winograd2, .winograd2, .direct], [.winograd, .winograd, .im2col]),
            (try conv([2, 64, 7, 7], [64, 64, 3, 3], pad: 1), [.winograd2, .winograd2, .direct], [.winograd, .winograd, .im2col]),
            // past 1024 weights per position (as the direct kernel): not the per-example F(2x2)
            (try conv([2, 128, 6, 6], [128, 128, 3, 3], pad: 1), [.im2col, .im2col, .direct], [.winograd, .winograd, .im2col]),
            // strided data gradient with phases 6 columns wide; the 7x7 stride-2 stem
            (try conv([2, 8, 12, 12], [8, 8, 3, 3], stride: 2, pad: 1), [.direct, .direct, .direct],
             [.im2col, .im2col, .im2col]),
            (try conv([2, 3, 32, 32], [8, 3, 7, 7], stride: 2, pad: 3), [.direct, .direct, .direct],
             [.im2col, .im2col, .im2col]),
            // ImageNet stages: Winograd first from 128 channels on 14x14 and larger; im2col past 1024
            // weights per output position (per stride-phase position for the strided data gradient),
            // past 4096 for the weight gradient
            (try conv([1, 256, 14, 14], [256, 256, 3, 3], pad: 1), [.winograd4, .winograd4, .direct],
             [.winograd, .winograd, .im2col]),
            // F(4x4, 3x3) from 64 channels on planes of 14x14 and larger, with AVX2 + FMA
            (try conv([1, 64, 56, 56], [64, 64, 3, 3], pad: 1), [.winograd4, .winograd4, .direct],
             [.winograd, .winograd, .im2col]),
            (try conv([1, 32, 28, 28], [64, 32, 3, 3], pad: 1), [.winograd4PerExample, .winograd4, .direct],
             [.winograd, .winograd, .im2col]),
            (try conv([1, 512, 7, 7], [512, 512, 3, 3], pad: 1), [.im2col, .im2col, .im2col], [.winograd, .winograd, .im2col]),
            (try conv([1, 64, 56, 56], [128, 64, 3, 3], stride: 2, pad: 1), [.direct, .direct, .direct],
             [.im2col, .im2col, .im2col]),
            (try conv([1, 128, 28, 28], [256, 128, 3, 3], stride: 2, pad: 1), [.im2col, .im2col, .direct],
             [.im2col, .im2col, .im2col]),
            (try conv([1, 128, 28, 28], [256, 128, 1, 1], stride: 2), [.pointwise, .pointwise, .im2col],
             [.pointwise, .pointwise, .im2col]),
            (try conv([1, 1024, 14, 14], [256, 1024, 1, 1]), [.im2col, .im2col, .im2col], [.im2col, .im2col, .im2col]),
            // H not a multiple of the stride: the strided data gradient keeps GEMM + col2im
            (try conv([2, 8, 13, 12], [8, 8, 3, 3], stride: 2, pad: 1), [.direct, .im2col, .direct],
             [.im2col, .im2col, .im2col]),
        ]
        for (i, (g, withAVX, without)) in rows.enumerated() {
            XCTAssertEqual(paths(avx512, g), withAVX, "row \(i)")
            XCTAssertEqual(paths(avx2, g), withAVX, "row \(i)")
            XCTAssertEqual(paths(plain, g), without, "row \(i)")
            // Double: depthwise or im2col only
            XCTAssertEqual(paths(avx512, g, float: false), withAVX.map { $0 == .depthwise ? .depthwise : .im2col }, "row \(i)")
        }
    }

    func testOverridesAreHonoured() throws {
        let g32 = try conv([2, 32, 16, 16], [32, 32, 3, 3], pad: 1)
        let g16 = try conv([2, 16, 32, 32], [16, 16, 3, 3], pad: 1)
        let shortcut = try conv([2, 16, 32, 32], [32, 16, 1, 1], stride: 2)
        func table(_ change: (inout KernelOverrides) -> Void) -> ConvPathTable {
            var o = KernelOverrides()
            change(&o)
            return ConvPathTable(cpu: avx512.cpu, overrides: o)
        }
        XCTAssertEqual(paths(table { $0.directConv = false }, g32), [.winograd, .winograd, .im2col])
        XCTAssertEqual(paths(table { $0.directConv = false; $0.winograd = false }, g32), [.im2col, .im2col, .im2col])
        XCTAssertEqual(paths(table { $0.directConv = false; $0.winogradMinChannels = 16 }, g16), [.winograd, .winograd, .im2col])
        XCTAssertEqual(paths(table { $0.pointwise = false }, shortcut), [.im2col, .im2col, .im2col])
        XCTAssertEqual(paths(table { $0.directWeight = false }, g16), [.winograd4PerExample, .winograd4PerExample, .im2col])
        XCTAssertEqual(paths(table { $0.winograd4PerExample = false }, g16), [.winograd2, .winograd2, .direct])
        // the per-example F(4x4) shares its F(2x2)'s rule: off with it
        XCTAssertEqual(paths(table { $0.winograd2 = false }, g16), [.direct, .direct, .direct])
        let g256 = try conv([1, 256, 14, 14], [256, 256, 3, 3], pad: 1)
        XCTAssertEqual(paths(table { $0.winograd4 = false }, g256), [.winograd, .winograd, .direct])
        // without the transposed data gradient, stride 1 has no direct data kernel
        let noTranspose = table { $0.convTranspose = false }
        XCTAssertNil(noTranspose.transposed(g16))
        XCTAssertNotNil(avx512.transposed(g16))
        XCTAssertEqual(paths(noTranspose, g16), [.winograd4PerExample, .im2col, .direct])
        XCTAssertTrue(avx512.avx512Enabled)
        XCTAssertFalse(table { $0.avx512 = false }.avx512Enabled)
        XCTAssertFalse(avx2.avx512Enabled)
        XCTAssertFalse(plain.directEnabled)
    }

    func testEnvironmentSwitches() {
        XCTAssertEqual(KernelOverrides(environment: [:]), KernelOverrides())
        XCTAssertEqual(KernelOverrides(environment: ["HUTCH_THREADS": "0", "HUTCH_WINOGRAD_MIN_CHANNELS": "x"]), KernelOverrides())
        let all = KernelOverrides(environment: [
            "HUTCH_THREADS": "3", "HUTCH_DIRECT_CONV": "0", "HUTCH_AVX512": "0", "HUTCH_POINTWISE": "0", "HUTCH_WINOGRAD": "0",
            "HUTCH_WINOGRAD_MIN_CHANNELS": "16", "HUTCH_WINOGRAD_MERGE": "1", "HUTCH_MERGE_BLOCKS": "1",
            "HUTCH_CONV_TRANSPOSE": "0", "HUTCH_DIRECT_WEIGHT": "0", "HUTCH_WINOGRAD4": "0", "HUTCH_WINOGRAD2": "0",
            "HUTCH_WINOGRAD4_PER_EXAMPLE": "0", "HUTCH_WINOGRAD_TILES_AVX512": "1",
        ])
        var expected = KernelOverrides()
        expected.threads = 3
        (expected.directConv, expected.avx512, expected.pointwise, expected.winograd) = (false, false, false, false)
        (expected.winogradMinChannels, expected.winogradMerge, expected.mergeBlocks, expected.convTranspose) = (16, true, true, false)
        expected.directWeight = false
        expected.winograd4 = false
        expected.winograd2 = false
        expected.winograd4PerExample = false
        expected.winogradTilesAVX512 = true
        XCTAssertEqual(all, expected)
    }

    func testCPUFeaturesFromFlags() {
        let haswell: Set<Substring> = ["avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "popcnt", "sse4_2"]
        XCTAssertEqual(CPUFeatures(flags: haswell), CPUFeatures(avx2FMA: true, avx512: false))
        XCTAssertEqual(CPUFeatures(flags: haswell.union(["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"])),
                       CPUFeatures(avx2FMA: true, avx512: true))
        XCTAssertEqual(CPUFeatures(flags: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]),
                       CPUFeatures(avx2FMA: false, avx512: false))
    }
}
