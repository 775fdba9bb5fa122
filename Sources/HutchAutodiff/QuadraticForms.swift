import HutchModel
import HutchTensor

/// State of a Hutchinson pass that only needs v_l^T (H v)_l per layer. For a convolution
/// y = conv(x, W) with direction V, the adjoint tangent of W is corr(x, dy*') + corr(x', y*),
/// and its inner product with V equals <conv(x, V), dy*'> + <x', conv_transpose(y*, V)>: both
/// factors are computed by the tangent and reverse sweeps anyway, so the two weight-gradient
/// GEMMs per layer and probe are skipped.
final class QuadraticForms<Scalar: TensorScalar> {
    let layers: Set<ValueID>
    let k: Int
    /// conv(x, V) of each such conv node, from the tangent sweep.
    var weightTerms: [Int: Stacked<Scalar>] = [:]
    /// forms[w][j] = v_j,w^T (H v_j)_w
    var forms: [ValueID: [Double]] = [:]

    /// Layers with at most this many multiply-adds per output (ConvGeometry.patchSize) drop
    /// conv(x, V) after the tangent sweep and recompute it in the reverse sweep: k blocks of the
    /// layer's output for one more convolution that costs little (depthwise, 1x1 with few input
    /// channels). `Int.min` keeps every term.
    let recomputeUpTo: Int
    /// The default `recomputeUpTo`: ResNet-50's chunks hold 45 % fewer terms for about 2.6 % more
    /// multiply-adds per probe, MobileNetV2's 93 % fewer for 12.7 % more, ResNet-20's (3x3 layers of
    /// 16 channels: 144) 14 % fewer for 0.4 % (Benchmarks/results/probe-recompute-terms.txt).
    static var defaultRecomputeUpTo: Int { 128 }

    init(layers: Set<ValueID>, k: Int, recomputeUpTo: Int = defaultRecomputeUpTo) {
        self.layers = layers
        self.k = k
        self.recomputeUpTo = recomputeUpTo
        for w in layers { forms[w] = Array(repeating: 0, count: k) }
    }

    /// Whether the tangent sweep keeps this layer's conv(x, V) for the reverse sweep.
    func keepsTerm(_ g: ConvGeometry) -> Bool { g.patchSize > recomputeUpTo }

    static func dot(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, _ n: Int) -> Double {
        Kernels.dot(a, b, count: n)
    }

    /// Adds the conv node's share of the forms; returns its curvature term for x,
    /// conv_transpose(y*, V), when x wants an adjoint (else nil).
    func convForms(_ i: Int, _ w: ValueID, _ g: ConvGeometry, _ x: [Stacked<Scalar>?], _ t: [Stacked<Scalar>?],
                   _ cot: Stacked<Scalar>?, _ dcot: Stacked<Scalar>?, _ need: [Bool]) -> Stacked<Scalar>? {
        if let dcot, let term = weightTerms[i] {
            for j in 0..<k { forms[w]![j] += Self.dot(term.block(j), dcot.block(j), term.blockCount) }
        }
        weightTerms[i] = nil
        guard let cot, let v = t[1], need[0] || t[0] != nil else { return nil }
        let c = Stacked<Scalar>(shape: x[0]!.shape, blocks: k, zeroed: false)
        Kernels.conv2DBackwardData(g, blocks: k, dy: cot.pointer, dyBlockStride: 0, w: v.pointer,
                                   wBlockStride: v.blockStride, dx: c.pointer, accumulate: false)
        if let dx = t[0] {
            for j in 0..<k { forms[w]![j] += Self.dot(dx.block(j), c.block(j), c.blockCount) }
        }
        return need[0] ? c : nil
    }
}
