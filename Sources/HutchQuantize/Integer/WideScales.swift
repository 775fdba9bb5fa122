/// The real scale of each element of an accumulator-domain ("wide") tensor, whose zero point is
/// 0: element e of an example has scale `scales[(e / inner) % scales.count]`, one scale per
/// channel of axis 1 with `inner` elements per channel (H·W for NCHW, 1 for [N, C]). Flatten and
/// Reshape keep the element order, so they keep the layout. The scales are constants of the
/// compiled program: at run time only integers derived from them are used.
///
/// `bounds[c]` is how far, in steps of scales[c], the integer value can be from the real value
/// the QDQ model computes from the same codes: the rounding of biases (their actual rounding
/// error, at most 1/2 step), of Clip bounds (1 step) and of rescaled residual inputs (1/2 step),
/// carried through the ops that follow.
/// The integer check uses it to tell a rounding boundary from a real discrepancy.
struct WideScales: Sendable, Equatable {
    var scales: [Double]
    var inner: Int
    var bounds: [Double]

    init(scales: [Double], inner: Int, bounds: [Double]? = nil) {
        self.scales = scales
        self.inner = inner
        self.bounds = bounds ?? scales.map { _ in 0 }
    }

    func channel(ofElement e: Int) -> Int { (e / inner) % scales.count }

    /// The same channels over a new spatial size (max pooling: a max is off by at most the
    /// most any of its inputs is off).
    func with(inner: Int) -> WideScales { WideScales(scales: scales, inner: inner, bounds: bounds) }

    /// A sum of `divisor` values read as their mean: the division goes into the scales (and so
    /// into the next requantization), the sum is off by up to `divisor` times as many steps.
    func divided(by divisor: Int, inner: Int) -> WideScales {
        WideScales(scales: scales.map { $0 / Double(divisor) }, inner: inner, bounds: bounds.map { $0 * Double(divisor) })
    }

    /// Clamping to bounds rounded to whole steps moves a value by less than one more step.
    func clamped() -> WideScales { WideScales(scales: scales, inner: inner, bounds: bounds.map { $0 + 1 }) }
}
