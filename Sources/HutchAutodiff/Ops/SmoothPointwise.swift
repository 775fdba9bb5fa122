import HutchModel
import HutchTensor

/// Pointwise functions with a second derivative that the engine computes in Swift: Erf, Gelu
/// (exact, x * Phi(x), and PyTorch's tanh form) and x^p. Tangent and transpose multiply by
/// f'(x); the curvature adds f''(x) x' y* for the primal adjoint y*.
struct SmoothPointwiseRule: OpRule {
    enum Function: Sendable { case erf, gelu, geluTanh, power(Double) }
    let function: Function

    /// f(x), f'(x) and f''(x).
    @inline(__always)
    func derivatives<S: TensorScalar>(_ x: S) -> (value: S, first: S, second: S) {
        switch function {
        case .erf:
            let first = S(2 / Double.pi.squareRoot()) * S.exp(-x * x)
            return (S.erf(x), first, -2 * x * first)
        case .gelu:
            let phi = S(1 / (2 * Double.pi).squareRoot()) * S.exp(-x * x / 2)    // the normal density
            let cdf = (1 + S.erf(x * S(1 / 2.0.squareRoot()))) / 2
            return (x * cdf, cdf + x * phi, phi * (2 - x * x))
        case .geluTanh:
            let c = S((2 / Double.pi).squareRoot()), a = S(0.044715)
            let u = c * (x + a * x * x * x), du = c * (1 + 3 * a * x * x), ddu = c * 6 * a * x
            let th = S.tanh(u), sech2 = 1 - th * th
            return (x * (1 + th) / 2, (1 + th) / 2 + x * sech2 * du / 2, sech2 * du + x * sech2 * (ddu - 2 * th * du * du) / 2)
        case .power(let p):
            if p == 2 { return (x * x, 2 * x, 2) }
            let e = S(p)
            return (S.pow(x, e), e * S.pow(x, e - 1), e * (e - 1) * S.pow(x, e - 2))
        }
    }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let x = c.x[0]!
        let y = Stacked<S>(shape: x.shape, zeroed: false)
        for i in 0..<x.count { y.pointer[i] = derivatives(x.pointer[i]).value }
        return y
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        t[0].map { firstDerivativeTimes(c.x[0]!, $0) }
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        [need[0] ? firstDerivativeTimes(c.x[0]!, cot) : nil]
    }

    var hasCurvature: Bool { true }
    /// f'(x) and f''(x) from x.
    func reverseReads(need: [Bool]) -> TapeReads { .pointwise(need, fromOutput: false) }

    @_specialize(where S == Float)
    func curvature<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], _ cot: Stacked<S>, need: [Bool], k: Int,
                                    _ tape: Tape<S>, adding existing: [Stacked<S>?]) throws(ExecutionError) -> [Stacked<S>?] {
        guard need[0], let t0 = t[0] else { return existing }
        let x = c.x[0]!, n = x.blockCount
        let out = Stacked<S>(shape: x.shape, blocks: t0.blocks, zeroed: false)
        for i in 0..<n {
            let weight = derivatives(x.pointer[i]).second * cot.pointer[i]
            for j in 0..<t0.blocks { out.block(j)[i] = weight * t0.block(j)[i] }
        }
        return existing.summed(with: [out])
    }

    /// f'(x) (.) v for stacked v.
    private func firstDerivativeTimes<S: TensorScalar>(_ x: Stacked<S>, _ v: Stacked<S>) -> Stacked<S> {
        let n = x.blockCount
        let out = Stacked<S>(shape: x.shape, blocks: v.blocks, zeroed: false)
        for i in 0..<n {
            let slope = derivatives(x.pointer[i]).first
            for j in 0..<v.blocks { out.block(j)[i] = slope * v.block(j)[i] }
        }
        return out
    }
}
