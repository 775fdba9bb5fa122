import HutchModel
import HutchTensor
import HutchTestSupport

/// Deterministic pseudo-random numbers for tests.
typealias TestRandom = SplitMix64

extension SplitMix64 {
    /// Uniform in [-1, 1).
    mutating func uniform() -> Double { symmetric() }
    mutating func array(_ n: Int, scale: Double = 1) -> [Double] { (0..<n).map { _ in uniform() * scale } }
    mutating func tensor(_ shape: [Int], scale: Double = 1) -> Tensor<Double> {
        Tensor(shape: shape, data: array(shape.reduce(1, *), scale: scale))
    }
}

/// Builds small graphs of the IR by hand.
struct GraphBuilder {
    var values: [Value] = []
    var nodes: [Node] = []
    var initializers: [ValueID: Tensor<Float>] = [:]
    var rng: TestRandom
    var input = ValueID(0)

    init(seed: UInt64, input shape: [Int?]) {
        rng = TestRandom(seed: seed)
        input = value("input", shape: shape)
    }

    mutating func value(_ name: String, shape: [Int?]? = nil) -> ValueID {
        values.append(Value(name: name, shape: shape))
        return ValueID(values.count - 1)
    }

    /// A random initializer with entries in [-scale, scale) (plus `offset`).
    mutating func parameter(_ name: String, _ shape: [Int], scale: Double = 0.5, offset: Double = 0) -> ValueID {
        let id = value(name, shape: shape.map { $0 })
        let data = rng.array(shape.reduce(1, *), scale: scale).map { Float($0 + offset) }
        initializers[id] = Tensor(shape: shape, data: data)
        return id
    }

    mutating func node(_ op: Op, _ inputs: [ValueID?], name: String? = nil) -> ValueID {
        let out = value("v\(values.count)")
        nodes.append(Node(name: name ?? "/\(op.onnxType.lowercased())_\(nodes.count)", op: op, inputs: inputs, outputs: [out]))
        return out
    }

    func graph(output: ValueID) -> Graph {
        Graph(values: values, nodes: nodes, input: input, output: output, initializers: initializers)
    }
}

func conv(_ k: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1], group: Int = 1) -> Op {
    .conv(ConvAttributes(kernelShape: k, strides: strides, pads: pads, dilations: dilations, group: group))
}

enum TestGraphs {
    /// Residual CNN: conv+BN+ReLU, max pooling, a 3x3 branch and a 1x1 shortcut joined by Add,
    /// a depthwise strided conv, Clip, average pooling, global average pooling, Flatten, Gemm.
    static func residual() -> (Graph, input: [Int], classes: Int) {
        var b = GraphBuilder(seed: 11, input: [nil, 3, 6, 6])
        var h = b.node(conv([3, 3], pads: [1, 1, 1, 1]), [b.input, b.parameter("c1.w", [4, 3, 3, 3]), b.parameter("c1.b", [4])])
        h = b.node(.batchNormalization(epsilon: 1e-5), [h, b.parameter("bn.s", [4], scale: 0.3, offset: 1),
                                                         b.parameter("bn.b", [4], scale: 0.1), b.parameter("bn.m", [4], scale: 0.1),
                                                         b.parameter("bn.v", [4], scale: 0.2, offset: 1)])
        h = b.node(.relu, [h])
        h = b.node(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1])), [h])
        var branch = b.node(conv([3, 3], pads: [1, 1, 1, 1]), [h, b.parameter("c2.w", [4, 4, 3, 3]), nil])
        branch = b.node(.relu, [branch])
        let shortcut = b.node(conv([1, 1]), [h, b.parameter("sc.w", [4, 4, 1, 1]), b.parameter("sc.b", [4])])
        h = b.node(.add, [branch, shortcut])
        h = b.node(conv([3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 4), [h, b.parameter("dw.w", [4, 1, 3, 3]), b.parameter("dw.b", [4])])
        h = b.node(.clip(min: -0.4, max: 0.6), [h])
        h = b.node(.averagePool(PoolAttributes(kernelShape: [2, 2], strides: [1, 1], pads: [1, 1, 0, 0], dilations: [1, 1],
                                               ceilMode: false, countIncludePad: true)), [h])
        h = b.node(.globalAveragePool, [h])
        h = b.node(.flatten(axis: 1), [h])
        h = b.node(.gemm(GemmAttributes(transB: true)), [h, b.parameter("fc.w", [5, 4], scale: 1.5), b.parameter("fc.b", [5])])
        return (b.graph(output: h), [2, 3, 6, 6], 5)
    }

    /// Smooth MLP: MatMul, Add, Tanh, Gemm (alpha, beta), Sigmoid, Mul by a constant and Mul of
    /// two varying operands, LeakyRelu, Concat, Reshape, Identity, batched MatMul of two varying
    /// operands, Flatten, Gemm with transB.
    static func smooth() -> (Graph, input: [Int], classes: Int) {
        var b = GraphBuilder(seed: 12, input: [nil, 4])
        var h = b.node(.matMul, [b.input, b.parameter("w1", [4, 10], scale: 0.8)])
        h = b.node(.add, [h, b.parameter("b1", [10])])
        let t = b.node(.tanh, [h])
        var s = b.node(.gemm(GemmAttributes(alpha: 0.7, beta: 1.3)), [t, b.parameter("w2", [10, 10], scale: 0.8), b.parameter("c2", [10])])
        s = b.node(.sigmoid, [s])
        var l = b.node(.mul, [t, b.parameter("const", [10], scale: 1)])
        l = b.node(.leakyRelu(alpha: 0.2), [l])
        let m = b.node(.mul, [s, l])
        let cat = b.node(.concat(axis: 1), [m, t])
        let r1 = b.node(.reshape(shape: [0, 4, 5]), [cat])
        let r2 = b.node(.reshape(shape: [-1, 5, 2]), [b.node(.identity, [s])])
        let mm = b.node(.matMul, [r1, r2])
        let f = b.node(.flatten(axis: 1), [mm])
        let out = b.node(.gemm(GemmAttributes(transB: true)), [f, b.parameter("w3", [4, 8], scale: 0.8), b.parameter("c3", [4])])
        return (b.graph(output: out), [3, 4], 4)
    }

    /// Conv net with Tanh and Sigmoid (non-zero second derivatives), a dilated strided depthwise
    /// conv, and Gemms with transA on a weight and on an activation.
    static func smoothConv() -> (Graph, input: [Int], classes: Int) {
        var b = GraphBuilder(seed: 13, input: [nil, 2, 5, 5])
        var h = b.node(conv([3, 3], pads: [1, 1, 1, 1]), [b.input, b.parameter("c1.w", [3, 2, 3, 3]), b.parameter("c1.b", [3])])
        h = b.node(.tanh, [h])
        h = b.node(conv([3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [2, 2], group: 3), [h, b.parameter("dw.w", [3, 1, 3, 3], scale: 0.8), nil])
        h = b.node(.sigmoid, [h])
        h = b.node(.flatten(axis: 1), [h])                  // [N, 12]
        let y = b.node(.gemm(GemmAttributes(transA: true, transB: true)), [b.parameter("wt", [12, 6]), h])   // [6, N]
        let out = b.node(.gemm(GemmAttributes(transA: true)), [y, b.parameter("w5", [6, 4], scale: 1.2), b.parameter("c5", [4])])
        return (b.graph(output: out), [2, 2, 5, 5], 4)
    }

    /// 1-D convolutions (grouped, strided, dilated), 1-D max and average pooling, Tanh.
    static func conv1D() -> (Graph, input: [Int], classes: Int) {
        var b = GraphBuilder(seed: 15, input: [nil, 4, 9])
        var h = b.node(conv([3], strides: [2], pads: [1, 1], dilations: [1], group: 2), [b.input, b.parameter("c1.w", [6, 2, 3]), b.parameter("c1.b", [6])])
        h = b.node(.tanh, [h])                                                     // [N, 6, 5]
        let m = b.node(.maxPool(PoolAttributes(kernelShape: [2], strides: [1], pads: [0, 1], dilations: [2])), [h])   // [N, 6, 4]
        let a = b.node(.averagePool(PoolAttributes(kernelShape: [2], strides: [1], pads: [0, 0], dilations: [1])), [h]) // [N, 6, 4]
        h = b.node(.concat(axis: 1), [m, a])                                       // [N, 12, 4]
        h = b.node(conv([2], strides: [1], pads: [0, 0], dilations: [2]), [h, b.parameter("c2.w", [3, 12, 2]), nil])   // [N, 3, 2]
        h = b.node(.flatten(axis: 1), [h])
        h = b.node(.gemm(GemmAttributes(transB: true)), [h, b.parameter("fc.w", [3, 6], scale: 1.2), b.parameter("fc.b", [3])])
        return (b.graph(output: h), [2, 4, 9], 3)
    }

    /// One attention block on token rows, as the exporters write a transformer's linear layers:
    /// MatMul of [N, T, D] activations by [D, O] weights (queries, keys, values, output), a
    /// product of two activations through Transpose and Softmax, GELU, a token mean, Gemm.
    static func attention() -> (Graph, input: [Int], classes: Int) {
        var b = GraphBuilder(seed: 16, input: [nil, 3, 4])
        let q = b.node(.matMul, [b.input, b.parameter("wq", [4, 4], scale: 0.8)])
        let k = b.node(.matMul, [b.input, b.parameter("wk", [4, 4], scale: 0.8)])
        let v = b.node(.matMul, [b.input, b.parameter("wv", [4, 4], scale: 0.8)])
        let scores = b.node(.matMul, [q, b.node(.transpose(perm: [0, 2, 1]), [k])])   // [N, T, T]
        let mixed = b.node(.matMul, [b.node(.softmax(axis: 2), [scores]), v])        // [N, T, 4]
        var h = b.node(.matMul, [mixed, b.parameter("wo", [4, 6], scale: 0.8)])
        h = b.node(.add, [h, b.parameter("bo", [6], scale: 0.2)])
        h = b.node(.gelu(tanhApproximation: false), [h])
        h = b.node(.reduceMean(axes: [1], keepDims: false), [h])                     // [N, 6]
        h = b.node(.gemm(GemmAttributes(transB: true)), [h, b.parameter("fc.w", [3, 6], scale: 1.2), b.parameter("fc.b", [3])])
        return (b.graph(output: h), [2, 3, 4], 3)
    }

    /// Piecewise-linear CNN for exact traces: conv, ReLU, max pooling, Gemm.
    static func relu() -> (Graph, input: [Int], classes: Int) {
        var b = GraphBuilder(seed: 14, input: [nil, 2, 4, 4])
        var h = b.node(conv([3, 3], pads: [1, 1, 1, 1]), [b.input, b.parameter("c1.w", [3, 2, 3, 3], scale: 0.8), b.parameter("c1.b", [3])])
        h = b.node(.relu, [h])
        h = b.node(.maxPool(PoolAttributes(kernelShape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1])), [h])
        h = b.node(.flatten(axis: 1), [h])
        h = b.node(.gemm(GemmAttributes(transB: true)), [h, b.parameter("fc.w", [4, 12], scale: 0.8), b.parameter("fc.b", [4])])
        return (b.graph(output: h), [3, 2, 4, 4], 4)
    }
}
