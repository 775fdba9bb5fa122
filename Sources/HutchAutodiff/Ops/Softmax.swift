import HutchModel
import HutchTensor

/// Softmax and LogSoftmax along one non-batch axis. With p = softmax(x) along the axis and
/// <a, b> the sum over it:
///   Softmax     y = p;         J v = p (.) (v - <p, v>) (symmetric, so the transpose is the same);
///               curvature along x': p' (.) (y* - <p, y*>) - p <p', y*>, with p' = J x'.
///   LogSoftmax  y = x - lse;   J v = v - <p, v>;  J^T g = g - p sum(g);
///               curvature along x': -p' sum(y*).
struct SoftmaxRule: OpRule {
    let axis: Int
    let logarithm: Bool

    /// The Jacobian and its curvature are functions of y alone.
    func reverseReads(need: [Bool]) -> TapeReads { .pointwise(need, fromOutput: true) }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let x = c.x[0]!
        let lines = try AxisLines(c.node, x.shape, axis)
        let y = Stacked<S>(shape: x.shape, zeroed: false)
        lines.forEach(blocks: 1) { base, stride in
            var top = -S.infinity
            for i in 0..<lines.length { top = Swift.max(top, x.pointer[base + i * stride]) }
            var sum: S = 0
            for i in 0..<lines.length { sum += S.exp(x.pointer[base + i * stride] - top) }
            let lse = top + S.log(sum)
            for i in 0..<lines.length {
                let o = base + i * stride
                y.pointer[o] = logarithm ? x.pointer[o] - lse : S.exp(x.pointer[o] - lse)
            }
        }
        return y
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        guard let t0 = t[0] else { return nil }
        return try jacobianTimes(c, y, t0)
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        guard need[0] else { return [nil] }
        let lines = try AxisLines(c.node, y.shape, axis)
        guard logarithm else { return [try jacobianTimes(c, y, cot)] }
        let out = Stacked<S>(shape: y.shape, blocks: cot.blocks, zeroed: false)
        lines.forEach(blocks: cot.blocks) { base, stride in
            let primal = base % y.blockCount
            var sum: S = 0
            for i in 0..<lines.length { sum += cot.pointer[base + i * stride] }
            for i in 0..<lines.length {
                let o = i * stride
                out.pointer[base + o] = cot.pointer[base + o] - S.exp(y.pointer[primal + o]) * sum
            }
        }
        return [out]
    }

    var hasCurvature: Bool { true }

    @_specialize(where S == Float)
    func curvature<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], _ cot: Stacked<S>, need: [Bool], k: Int,
                                    _ tape: Tape<S>, adding existing: [Stacked<S>?]) throws(ExecutionError) -> [Stacked<S>?] {
        guard need[0], let t0 = t[0] else { return existing }
        let lines = try AxisLines(c.node, y.shape, axis)
        let out = Stacked<S>(shape: y.shape, blocks: t0.blocks, zeroed: false)
        var dp = [S](repeating: 0, count: lines.length)
        lines.forEach(blocks: t0.blocks) { base, stride in
            let primal = base % y.blockCount
            // p and p' = p (.) (x' - <p, x'>) along this line
            var pt: S = 0
            for i in 0..<lines.length { pt += probability(y, primal + i * stride) * t0.pointer[base + i * stride] }
            for i in 0..<lines.length {
                dp[i] = probability(y, primal + i * stride) * (t0.pointer[base + i * stride] - pt)
            }
            if logarithm {
                var sum: S = 0
                for i in 0..<lines.length { sum += cot.pointer[primal + i * stride] }
                for i in 0..<lines.length { out.pointer[base + i * stride] = -dp[i] * sum }
            } else {
                var pg: S = 0, dpg: S = 0
                for i in 0..<lines.length {
                    let g = cot.pointer[primal + i * stride]
                    pg += y.pointer[primal + i * stride] * g
                    dpg += dp[i] * g
                }
                for i in 0..<lines.length {
                    let o = i * stride
                    out.pointer[base + o] = dp[i] * (cot.pointer[primal + o] - pg) - y.pointer[primal + o] * dpg
                }
            }
        }
        return existing.summed(with: [out])
    }

    @inline(__always)
    private func probability<S: TensorScalar>(_ y: Stacked<S>, _ index: Int) -> S {
        logarithm ? S.exp(y.pointer[index]) : y.pointer[index]
    }

    /// Softmax: p (.) (v - <p, v>); LogSoftmax: v - <p, v>.
    private func jacobianTimes<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>) throws(ExecutionError) -> Stacked<S> {
        let lines = try AxisLines(c.node, y.shape, axis)
        let out = Stacked<S>(shape: y.shape, blocks: v.blocks, zeroed: false)
        lines.forEach(blocks: v.blocks) { base, stride in
            let primal = base % y.blockCount
            var pv: S = 0
            for i in 0..<lines.length { pv += probability(y, primal + i * stride) * v.pointer[base + i * stride] }
            for i in 0..<lines.length {
                let o = i * stride
                out.pointer[base + o] = logarithm ? v.pointer[base + o] - pv : y.pointer[primal + o] * (v.pointer[base + o] - pv)
            }
        }
        return out
    }
}

/// The lines of a tensor along one axis: [outer, length, inner] with the axis in the middle.
struct AxisLines {
    let outer: Int, length: Int, inner: Int

    init(_ node: Node, _ shape: [Int], _ axis: Int) throws(ExecutionError) {
        guard axis >= 0, axis < shape.count else {
            throw ExecutionError.node(node, "axis \(axis) is out of range for shape \(shape)")
        }
        outer = shape[..<axis].reduce(1, *)
        length = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }

    /// Calls `body(first element, stride)` for every line of `blocks` stacked blocks.
    @inline(__always)
    func forEach(blocks: Int, _ body: (Int, Int) -> Void) {
        let block = outer * length * inner
        for j in 0..<blocks {
            for o in 0..<outer {
                for i in 0..<inner { body(j * block + o * length * inner + i, inner) }
            }
        }
    }
}
