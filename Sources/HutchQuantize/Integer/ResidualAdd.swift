/// Add of two wide tensors in integers. Channel c of the result has scale t_c = max(a_c, b_c)
/// (the coarser input scale, so the sum stays in int32 range): the coarser input is taken as is,
/// the finer one is rescaled by the dyadic r = s / t_c ≤ 1, rounded half up. That rounding is
/// at most half a step of t_c, a tiny fraction of the next activation step.
struct ResidualAdd: Sendable {
    /// nil: the input already has the result's scale in that channel.
    var left: [DyadicMultiplier?]
    var right: [DyadicMultiplier?]
    var layout: WideScales

    init(_ a: WideScales, _ b: WideScales, node: String) throws(ExportError) {
        let count = max(a.scales.count, b.scales.count)
        guard a.inner == b.inner || a.scales.count == 1 || b.scales.count == 1,
              count % a.scales.count == 0, count % b.scales.count == 0 else {
            throw ExportError(.model, "integer check: node '\(node)' (Add): its inputs have different channel layouts")
        }
        let inner = a.scales.count == count ? a.inner : b.inner
        func scale(_ s: WideScales, _ c: Int) -> Double { scale(s.scales, s, c) }
        func scale(_ values: [Double], _ s: WideScales, _ c: Int) -> Double { values[s.scales.count == 1 ? 0 : c] }
        var left: [DyadicMultiplier?] = [], right: [DyadicMultiplier?] = [], result: [Double] = [], bounds: [Double] = []
        func factor(_ s: Double, _ t: Double) throws(ExportError) -> DyadicMultiplier? {
            guard s != t else { return nil }
            do { return try DyadicMultiplier(s / t) } catch {
                throw ExportError(.model, "integer check: node '\(node)' (Add): rescaling an input: \(error)")
            }
        }
        for c in 0..<count {
            let sa = scale(a, c), sb = scale(b, c), t = max(sa, sb)
            result.append(t)
            let (ra, rb) = (try factor(sa, t), try factor(sb, t))
            left.append(ra)
            right.append(rb)
            // each input's own bound in steps of t, plus half a step where the shift rounds
            let rounding = (ra == nil ? 0 : 0.5) + (rb == nil ? 0 : 0.5)
            bounds.append(scale(a.bounds, a, c) * sa / t + scale(b.bounds, b, c) * sb / t + rounding)
        }
        self.left = left
        self.right = right
        layout = WideScales(scales: result, inner: inner, bounds: bounds)
    }

    func callAsFunction(_ a: IntegerTensor, _ b: IntegerTensor, node: String) throws(ExportError) -> IntegerTensor {
        guard a.shape == b.shape else {
            throw ExportError(.model, "integer check: node '\(node)' (Add): shapes \(a.shape) and \(b.shape) differ; only same-shape residual adds have an integer rule")
        }
        let per = a.perExample
        var sums = [Int64](repeating: 0, count: a.data.count)
        for i in sums.indices {
            let c = layout.channel(ofElement: i % per)
            let x = Int64(a.data[i]), y = Int64(b.data[i])
            sums[i] = (left[c]?.apply(to: x) ?? x) + (right[c]?.apply(to: y) ?? y)
        }
        return try IntegerTensor(shape: a.shape, sums: sums, node: node)
    }
}
