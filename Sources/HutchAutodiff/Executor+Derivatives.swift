import HutchModel
import HutchTensor

/// Loss and gradient of one batch.
public struct GradientResult<Scalar: TensorScalar>: Sendable {
    /// The loss (mean softmax cross-entropy for classification; Protocols/README.md, "Loss").
    public var loss: Scalar
    public var logits: Tensor<Scalar>
    /// dLoss/dlogits, shaped as the output ([N, C] for classification).
    public var logitsGradient: Tensor<Scalar>
    /// dLoss/dparameter for every requested parameter.
    public var gradients: [ValueID: Tensor<Scalar>]
}

/// Loss, gradient and the Hessian-vector products H v_j of one batch.
public struct HessianVectorResult<Scalar: TensorScalar>: Sendable {
    public var loss: Scalar
    public var logits: Tensor<Scalar>
    public var gradients: [ValueID: Tensor<Scalar>]
    /// products[j][w]: block w of H v_j, for each direction j and requested parameter w.
    public var products: [[ValueID: Tensor<Scalar>]]
}

extension Executor {
    /// Loss and its gradient with respect to `parameters` (initializers) by reverse mode.
    @_specialize(exported: true, where Scalar == Float)
    public func gradient(input: Tensor<Scalar>, labels: [Int], wrt: [ValueID]) throws(ExecutionError) -> GradientResult<Scalar> {
        try gradient(input: input, targets: .classes(labels), wrt: wrt)
    }

    /// The same for any loss head (`LossTargets`).
    @_specialize(exported: true, where Scalar == Float)
    public func gradient(input: Tensor<Scalar>, targets: LossTargets, wrt: [ValueID]) throws(ExecutionError) -> GradientResult<Scalar> {
        let wanted = try parameterSet(wrt, what: "gradient")
        let tape = try forwardTape(input)
        let logits = try outputValue(tape)
        let head = try makeLoss(output: logits, targets: targets)
        let seed = head.gradient()
        var need = dependents(of: wanted)
        need[graph.output.index] = true
        let (adjoints, _) = try reverseSweep(tape, need: need, seed: seed)
        return GradientResult(loss: head.loss, logits: logits.tensor(block: 0), logitsGradient: seed.tensor(block: 0),
                              gradients: collect(wrt, adjoints, block: 0))
    }

    /// Exact Hessian-vector products by forward-over-reverse for k directions at once: one
    /// forward pass, one tangent pass and one reverse pass with the k tangents stacked along the
    /// batch. `directions[j]` gives v_j per parameter (absent = zero); every key must be in `wrt`.
    /// Returns the loss, the gradient and H v_j restricted to each parameter in `wrt`.
    @_specialize(exported: true, where Scalar == Float)
    public func hessianVectorProducts(input: Tensor<Scalar>, labels: [Int], wrt: [ValueID],
                                      directions: [[ValueID: Tensor<Scalar>]]) throws(ExecutionError) -> HessianVectorResult<Scalar> {
        try hessianVectorProducts(input: input, targets: .classes(labels), wrt: wrt, directions: directions)
    }

    /// The same for any loss head (`LossTargets`).
    @_specialize(exported: true, where Scalar == Float)
    public func hessianVectorProducts(input: Tensor<Scalar>, targets: LossTargets, wrt: [ValueID],
                                      directions: [[ValueID: Tensor<Scalar>]]) throws(ExecutionError) -> HessianVectorResult<Scalar> {
        let wanted = try parameterSet(wrt, what: "Hessian-vector product")
        let k = directions.count
        guard k >= 1 else { throw ExecutionError("Hessian-vector product: no directions given") }
        var stacked = [ValueID: Stacked<Scalar>]()
        for (j, direction) in directions.enumerated() {
            for (id, v) in direction {
                guard wanted.contains(id), let p = parameters[id] else {
                    throw ExecutionError("Hessian-vector product: direction \(j) has parameter '\(name(id))' that is not in wrt")
                }
                guard v.shape == p.shape else {
                    throw ExecutionError("Hessian-vector product: direction \(j) for '\(name(id))' has shape \(v.shape), expected \(p.shape)")
                }
                let s = stacked[id] ?? Stacked<Scalar>(shape: p.shape, blocks: k)
                v.data.withUnsafeBufferPointer { s.block(j).update(from: $0.baseAddress!, count: $0.count) }
                stacked[id] = s
            }
        }
        var tape = try forwardTape(input)
        let logits = try outputValue(tape)
        let head = try makeLoss(output: logits, targets: targets)
        var need = dependents(of: wanted)
        need[graph.output.index] = true
        let releasing = releasableTapeValues(tape, need: need)
        let tangents = try tangentSweep(&tape, stacked, k: k, releasing: releasing)
        let tangentSeed = tangents[graph.output.index].map { head.hessianTimes($0) }
        let (adjoints, tangentAdjoints) = try reverseSweep(tape, need: need, seed: head.gradient(),
                                                           tangents: tangents, tangentSeed: tangentSeed, k: k)
        let products = (0..<k).map { collect(wrt, tangentAdjoints, block: $0) }
        return HessianVectorResult(loss: head.loss, logits: logits.tensor(block: 0),
                                   gradients: collect(wrt, adjoints, block: 0), products: products)
    }

    /// Block j of each requested adjoint (zeros where nothing flowed).
    func collect(_ ids: [ValueID], _ adjoints: [Stacked<Scalar>?], block j: Int) -> [ValueID: Tensor<Scalar>] {
        var out = [ValueID: Tensor<Scalar>]()
        for id in ids {
            out[id] = adjoints[id.index]?.tensor(block: j) ?? Tensor(zeros: parameters[id]?.shape ?? [])
        }
        return out
    }

    func name(_ id: ValueID) -> String {
        id.index < graph.values.count ? graph.values[id.index].name : "\(id)"
    }
}
