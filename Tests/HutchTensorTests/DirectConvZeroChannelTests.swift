import HutchTestSupport
import XCTest
@testable import HutchTensor
import HutchTensorAVX2
import HutchTensorAVX512

/// The direct kernels leave out input channels whose plane is all zeros (`DirectVectors.keptSteps`).
/// On inputs with zero planes (ReLU's), every kernel layout must give the bits of the same kernel
/// running every channel, and those of the other layouts; on all-zero and zero-free inputs too.
final class DirectConvZeroChannelTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.cpuHasAVX2FMA, "this CPU has no AVX2 + FMA: the direct kernels are never used")
    }

    /// Which kernels run shape s, each as a function of (skip zero channels, mode) -> y.
    private func kernels(_ s: DirectConvShape, x: [Float], packed: [Float], y0: [Float])
        -> [(String, (Bool, DirectStore) -> [Float])] {
        var padded = [Float](repeating: .nan, count: s.paddedCount)
        DirectConvAVX2.padInput(s, x: x, into: &padded)
        func run(_ body: (UnsafeMutablePointer<Float>, DirectStore) -> Void, _ mode: DirectStore) -> [Float] {
            var y = y0
            body(&y, mode)
            return y
        }
        var list: [(String, (Bool, DirectStore) -> [Float])] = [
            ("avx2", { skip, mode in run({ DirectConvAVX2.forward(s, padded: padded, packed: packed, y: $0, mode: $1, skipZeroChannels: skip) }, mode) }),
        ]
        guard Kernels.cpuHasAVX512 else { return list }
        if s.outWidth >= 16 {
            list.append(("avx512 rows", { skip, mode in
                run({ DirectConvAVX512.forward(s, padded: padded, packed: packed, y: $0, mode: $1, skipZeroChannels: skip) }, mode)
            }))
        }
        if DirectConvAVX512.fitsExpanded(s) {
            var expanded = [Float](repeating: .nan, count: DirectConvAVX512.expandedCount(s))
            DirectConvAVX512.expand(s, x: x, into: &expanded)
            list.append(("avx512 expanded", { skip, mode in
                run({ DirectConvAVX512.forwardExpanded(s, expanded: expanded, packed: packed, y: $0, mode: $1, skipZeroChannels: skip) }, mode)
            }))
        }
        return list
    }

    func testSkippingZeroPlanesKeepsEveryBit() throws {
        var rng = TestRandom(seed: 57)
        // (channels in, out, input h, w, kernel, stride, pad): 32-, 16- and 8-wide outputs, a strided
        // layer, a 1x1 and a 5x5, an output channel count that is not a multiple of 4
        let shapes: [(Int, Int, Int, Int, Int, Int, Int)] = [
            (6, 8, 32, 32, 3, 1, 1), (5, 6, 16, 16, 3, 1, 1), (7, 4, 8, 8, 3, 1, 1), (4, 5, 16, 16, 3, 2, 1),
            (6, 3, 8, 8, 1, 1, 0), (3, 4, 12, 12, 5, 1, 2),
        ]
        for (ci, co, h, w, k, stride, pad) in shapes {
            let g = try ConvGeometry(input: [1, ci, h, w], weight: [co, ci, k, k], strides: [stride, stride],
                                     pads: [pad, pad, pad, pad], dilations: [1, 1], group: 1)
            let s = try XCTUnwrap(Kernels.directShape(g))
            let wt = rng.array(g.weightCount).map(Float.init)
            var packed = [Float](repeating: .nan, count: s.packedWeightCount)
            DirectConvAVX2.packWeights(s, w: wt, into: &packed)
            let y0 = rng.array(g.outputCount).map(Float.init)
            // ReLU'd planes with channels 1 and ci - 1 all zeros (one of them negative zeros); every
            // plane zero; no plane zero
            var relu = rng.array(g.inputCount).map { Float(max($0, 0)) }
            for c in [1, ci - 1] { for i in 0..<(h * w) { relu[c * h * w + i] = c == 1 ? 0 : -0.0 } }
            let inputs = [("zero planes", relu), ("all zeros", [Float](repeating: 0, count: g.inputCount)),
                          ("no zero plane", rng.array(g.inputCount).map(Float.init))]
            for (inputName, x) in inputs {
                var reference: [Float]?
                for (kernelName, kernel) in kernels(s, x: x, packed: packed, y0: y0) {
                    for mode in [DirectStore.overwrite, .accumulate] {
                        let name = "\(ci)->\(co) \(h)x\(w) \(k)x\(k) s\(stride) \(inputName) \(kernelName) \(mode)"
                        let skipped = kernel(true, mode), full = kernel(false, mode)
                        XCTAssertEqual(skipped.map(\.bitPattern), full.map(\.bitPattern), name)
                        XCTAssertFalse(skipped.contains { $0.isNaN }, name)
                        if mode == .overwrite {
                            if let reference {
                                XCTAssertEqual(skipped.map(\.bitPattern), reference.map(\.bitPattern), "\(name) against avx2")
                            } else {
                                reference = skipped
                            }
                        }
                    }
                }
            }
        }
    }

    func testKeptStepsDropsExactlyTheZeroChannels() {
        // 4 channels of 2 steps each, planes of 5 floats: channel 1 zero, channel 3 -0 and 0, channel 2 NaN
        let planes: [Float] = [1, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, /**/ 0, 0, .nan, 0, 0, /**/ -0.0, 0, -0.0, 0, 0]
        var off = [0, 1, 5, 6, 10, 11, 15, 16]
        var wo = [Int](repeating: -1, count: 8)
        let kept = DirectVectors.keptSteps(&off, weights: &wo, channels: 4, kk: 2, input: planes, channelStride: 5, skip: true)
        XCTAssertEqual(kept, 4)
        XCTAssertEqual(Array(off[0..<4]), [0, 1, 10, 11])
        XCTAssertEqual(Array(wo[0..<4]), [0, 4, 16, 20])
        var all = [0, 1, 5, 6, 10, 11, 15, 16]
        XCTAssertEqual(DirectVectors.keptSteps(&all, weights: &wo, channels: 4, kk: 2, input: planes, channelStride: 5, skip: false), 8)
        XCTAssertEqual(all, [0, 1, 5, 6, 10, 11, 15, 16])
        XCTAssertEqual(wo, [0, 4, 8, 12, 16, 20, 24, 28])
    }
}
