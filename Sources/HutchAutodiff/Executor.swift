import HutchModel
import HutchTensor

/// Runs a `Graph` in `Scalar` precision: forward, mean softmax cross-entropy, gradients by
/// reverse mode, Hessian-vector products by forward-over-reverse, per-example gradient norms.
///
/// Entry points: `logits`, `gradient`, `hessianVectorProducts` (k directions per call),
/// `hessianQuadraticForms` (what Hutchinson averages, cheaper), `perExampleGradientSquaredNorms`,
/// `exactHessianTraceSums` / `exactHessianTraces`. Each op's forward, tangent (JVP), transpose
/// (VJP) and curvature terms sit side by side in one file under Ops/ (OpRule.swift, OpRegistry.swift). All values flow as
/// `Stacked` blocks so that the k probe directions of one call share the forward pass, the
/// primal backward pass and every im2col of a primal activation; a probe's results are
/// bit-identical whichever probes share its call.
///
/// Threads: `Kernels.threads` (HUTCH_THREADS, else all cores); OpenBLAS itself always runs on
/// one thread (its threads change the bits of some products). `hessianQuadraticForms` splits the batch into
/// chunks, one per thread, with single-threaded kernels inside; the other entry points split
/// each kernel's examples between threads. Large buffers are pooled (`BufferPool`).
public struct Executor<Scalar: TensorScalar>: Sendable {
    public let graph: Graph
    /// The graph's initializers in `Scalar` precision. Tests perturb these for finite differences.
    public var parameters: [ValueID: Tensor<Scalar>]
    /// Gradients pass fake-quantized activations by the straight-through estimator
    /// (quantization-aware training) instead of being refused.
    public var straightThroughFakeQuantize = false
    /// `QuadraticForms.recomputeUpTo` of `hessianQuadraticForms`: only memory and time depend on
    /// it, not a bit of the forms (tests compare Int.min, which keeps every term, with the default).
    var quadraticTermRecomputeUpTo = QuadraticForms<Scalar>.defaultRecomputeUpTo
    /// Whether Hessian-vector products and quadratic forms release the tape values their reverse
    /// sweep does not read (Executor+TapeRelease.swift); off with HUTCH_KEEP_TAPE=1. Only memory
    /// depends on it (tests compare both).
    var releasesUnreadTapeValues = !keepsTapeByEnvironment

    public init(graph: Graph) throws(ExecutionError) {
        self.graph = graph
        parameters = graph.initializers.mapValues { $0.converted(to: Scalar.self) }
        for node in graph.nodes { try Self.validateArity(node) }
        for (id, tensor) in graph.initializers.sorted(by: { $0.key < $1.key }) {
            if let bad = tensor.data.firstIndex(where: { !$0.isFinite }) {
                let name = id.index < graph.values.count ? graph.values[id.index].name : "\(id)"
                throw ExecutionError("initializer '\(name)' has a non-finite value (\(tensor.data[bad])) at flat index \(bad)")
            }
        }
        guard graph.input.index < graph.values.count, graph.output.index < graph.values.count else {
            throw ExecutionError("graph input or output refers to a missing value")
        }
        for node in graph.nodes {
            for v in node.inputs.compactMap({ $0 }) + node.outputs where v.index >= graph.values.count {
                throw ExecutionError.node(node, "refers to missing value \(v)")
            }
        }
    }

    /// Inputs each op needs (nil marks an omitted optional input): its rule says.
    private static func validateArity(_ node: Node) throws(ExecutionError) {
        guard node.op.rule.accepts(node.inputs), node.outputs.count >= 1 else {
            throw ExecutionError.node(node, "has \(node.inputs.count) inputs and \(node.outputs.count) outputs, which this op does not take")
        }
    }

    /// Weights of the graph's quantizable layers, in canonical order.
    public var quantizableWeights: [ValueID] { graph.quantizableLayers.map(\.weight) }
}

/// Everything a forward pass keeps for the backward passes.
struct Tape<Scalar: TensorScalar> {
    /// Every value by index; values the reverse sweep does not read may be `Stacked.released()`.
    var values: [Stacked<Scalar>?]
    var geometry: [Int: ConvGeometry] = [:]
    var argmax: [Int: [Int32]] = [:]
    /// Inference batch normalization as y = x * scale + shift per channel.
    var affine: [Int: (scale: [Scalar], shift: [Scalar])] = [:]

    var batch: Int
}

extension Executor {
    /// The forward pass; keeps every value and what backward needs. `shared`: the parameters
    /// as `stackedParameters()` made them, for calls that run several chunks on the same ones.
    func forwardTape(_ input: Tensor<Scalar>, shared: [ValueID: Stacked<Scalar>]? = nil) throws(ExecutionError) -> Tape<Scalar> {
        try checkInput(input)
        var tape = Tape<Scalar>(values: Array(repeating: nil, count: graph.values.count), batch: input.shape[0])
        for (id, value) in shared ?? stackedParameters() { tape.values[id.index] = value }
        tape.values[graph.input.index] = Stacked(input)
        for (i, node) in graph.nodes.enumerated() {
            var inputs = [Stacked<Scalar>?]()
            for v in node.inputs {
                guard let v else { inputs.append(nil); continue }
                guard let value = tape.values[v.index] else {
                    throw ExecutionError.node(node, "input '\(graph.values[v.index].name)' is not computed before it (graph not topologically ordered?)")
                }
                inputs.append(value)
            }
            tape.values[node.outputs[0].index] = try forward(i, node, inputs, &tape)
        }
        return tape
    }

    /// The parameters as kernel operands.
    func stackedParameters() -> [ValueID: Stacked<Scalar>] { parameters.mapValues { Stacked($0) } }

    private func checkInput(_ input: Tensor<Scalar>) throws(ExecutionError) {
        let declared = graph.values[graph.input.index]
        guard input.rank >= 1, input.shape[0] >= 1 else {
            throw ExecutionError("input '\(declared.name)' has shape \(input.shape): need a non-empty batch")
        }
        if let bad = input.data.firstIndex(where: { !$0.isFinite }) {
            let perExample = max(1, input.count / input.shape[0])
            throw ExecutionError("input '\(declared.name)' has a non-finite value (\(input.data[bad])) in example \(bad / perExample)")
        }
        if let shape = declared.shape {
            let fits = shape.count == input.rank && zip(shape, input.shape).allSatisfy { $0 == nil || $0 == $1 }
            guard fits else {
                let text = shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ")
                throw ExecutionError("input '\(declared.name)' has shape \(input.shape) but the model expects [\(text)]")
            }
        }
    }

    /// Logits of a batch.
    @_specialize(exported: true, where Scalar == Float)
    public func logits(_ input: Tensor<Scalar>) throws(ExecutionError) -> Tensor<Scalar> {
        let tape = try forwardTape(input)
        return try outputValue(tape).tensor(block: 0)
    }

    func outputValue(_ tape: Tape<Scalar>) throws(ExecutionError) -> Stacked<Scalar> {
        guard let out = tape.values[graph.output.index] else {
            throw ExecutionError("output '\(graph.values[graph.output.index].name)' is not computed by any node")
        }
        guard out.shape.count >= 2, out.shape[0] == tape.batch else {
            throw ExecutionError("output '\(graph.values[graph.output.index].name)' has shape \(out.shape): expected logits [\(tape.batch), classes] or [\(tape.batch), tokens, vocabulary]")
        }
        return out
    }

    /// Values that depend on any of `sources` (and so carry tangents and adjoints).
    func dependents(of sources: Set<ValueID>) -> [Bool] {
        var flag = Array(repeating: false, count: graph.values.count)
        for s in sources { flag[s.index] = true }
        for node in graph.nodes where node.inputs.contains(where: { $0.map { flag[$0.index] } ?? false }) {
            for o in node.outputs { flag[o.index] = true }
        }
        return flag
    }

    func inputs(of node: Node, _ tape: Tape<Scalar>) -> [Stacked<Scalar>?] {
        node.inputs.map { $0.flatMap { tape.values[$0.index] } }
    }
}
