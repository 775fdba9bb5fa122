import HutchModel
import HutchTensor

/// One node as its rule sees it: the executor, the node's position in the graph (the key of
/// what it keeps on the tape), the node itself, and its primal inputs (nil for an omitted
/// optional input).
struct OpCall<S: TensorScalar> {
    let e: Executor<S>
    let index: Int
    let node: Node
    let x: [Stacked<S>?]
}

/// The math of one IR op, one file per op under Ops/, found through `Op.rule` (OpRegistry.swift):
///   forward     y = f(x)
///   tangent     y' = J x'                  (k stacked tangents; a nil input tangent is zero)
///   transpose   x* = J^T y*                (m stacked adjoints; `need[i]` says which inputs want one)
///   curvature   (dJ[x'])^T y* for the primal adjoint y*: the second-order part of the adjoint's
///               tangent (the cross terms of bilinear ops, f'' of curved pointwise ops). It adds
///               its k blocks to `existing`: fresh, unshared buffers from `transpose`, or nil.
/// A rule is a value carrying the op's attributes. Its methods are generic over the scalar and
/// are marked `@_specialize(where S == Float)`: the registry hands rules out as existentials,
/// and without the attribute Float would run the slow unspecialized code.
protocol OpRule: Sendable {
    /// Whether `inputs` (nil = omitted optional input) is an arity the op takes.
    func accepts(_ inputs: [ValueID?]) -> Bool
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S>
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>?
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?]
    /// Whether `curvature` has terms; the tangent sweep keeps such nodes' input tangents for it.
    var hasCurvature: Bool { get }
    func curvature<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], _ cot: Stacked<S>, need: [Bool], k: Int,
                                    _ tape: Tape<S>, adding existing: [Stacked<S>?]) throws(ExecutionError) -> [Stacked<S>?]
    /// The primal values `transpose` and `curvature` read beyond their shapes when `need` marks
    /// the inputs that want adjoints. The sweeps release every other tape value before the reverse
    /// sweep (Executor+TapeRelease.swift); a rule that reads a released value traps, so declare
    /// only what the code shows. The default reads everything.
    func reverseReads(need: [Bool]) -> TapeReads
}

/// What a rule's reverse-mode methods read of the tape: its inputs' values (by position) and its
/// output's. Shapes are always there.
struct TapeReads: Equatable {
    var inputs: [Bool]
    var output: Bool

    static func everything(_ inputs: Int) -> TapeReads { TapeReads(inputs: Array(repeating: true, count: inputs), output: true) }
    static func shapesOnly(_ inputs: Int) -> TapeReads { TapeReads(inputs: Array(repeating: false, count: inputs), output: false) }
    /// Pointwise ops: f' from x (`output` false) or from y, when the data input wants an adjoint.
    static func pointwise(_ need: [Bool], fromOutput: Bool) -> TapeReads {
        TapeReads(inputs: need.indices.map { $0 == 0 && need[0] && !fromOutput }, output: need[0] && fromOutput)
    }
    /// Bilinear ops (Conv, Gemm, MatMul, Mul): operand 0's adjoint reads operand 1 and the other
    /// way round; the curvature terms read tangents; further inputs (bias, C) only their shapes.
    static func otherOperand(_ need: [Bool]) -> TapeReads {
        TapeReads(inputs: need.indices.map { $0 == 0 ? need[1] : $0 == 1 ? need[0] : false }, output: false)
    }
}

extension OpRule {
    /// One data input, present; further inputs optional.
    func accepts(_ inputs: [ValueID?]) -> Bool { !inputs.isEmpty && inputs[0] != nil }
    var hasCurvature: Bool { false }
    func reverseReads(need: [Bool]) -> TapeReads { .everything(need.count) }
    func curvature<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], _ cot: Stacked<S>, need: [Bool], k: Int,
                                    _ tape: Tape<S>, adding existing: [Stacked<S>?]) throws(ExecutionError) -> [Stacked<S>?] {
        existing
    }
}

/// Ops with one data input that are linear in it (once the forward pass fixed what it chose,
/// such as MaxPool's argmax): the tangent applies `apply`, the transpose its adjoint; stacked
/// blocks are more planes. Other inputs are constants without derivatives.
protocol LinearInDataRule: OpRule {
    func apply<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>
    func applyTranspose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ v: Stacked<S>, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>
}

extension LinearInDataRule {
    // Not specialized (a protocol extension has Self as a generic parameter too): these only
    // forward to `apply` and `applyTranspose`, whose witnesses are.
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        guard let t0 = t[0] else { return nil }
        return try apply(c, y, t0, tape)
    }

    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        var result = [Stacked<S>?](repeating: nil, count: c.x.count)
        if need[0] { result[0] = try applyTranspose(c, y, cot, tape) }
        return result
    }

    /// A linear map's transpose reads no primal value: only shapes and what the forward pass
    /// fixed on the tape (argmax, geometry).
    func reverseReads(need: [Bool]) -> TapeReads { .shapesOnly(need.count) }
}

extension Array {
    /// `existing` and a rule's own curvature terms, input by input.
    func summed<S: TensorScalar>(with own: [Stacked<S>?]) -> [Stacked<S>?] where Element == Stacked<S>? {
        zip(self, own).map { Stacked.sum($0, $1) }
    }
}
