import HutchTensor

/// Index of a value (tensor edge) in a `Graph`.
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
    public var description: String { "%\(index)" }
}

/// A tensor edge: its ONNX name and, where known, its static shape (nil entries are symbolic,
/// typically the batch dimension).
public struct Value: Sendable, Equatable {
    public var name: String
    public var shape: [Int?]?
    /// The batch-dependent dimension (nil in `shape`) is the batch size times this: attention
    /// folds heads or tokens into the batch (GraphBuilder's `BatchLayout`).
    public var batchFactor: Int
    public init(name: String, shape: [Int?]? = nil, batchFactor: Int = 1) {
        self.name = name
        self.shape = shape
        self.batchFactor = batchFactor
    }
}

/// One operation of the validated IR. ONNX nodes are lowered to these by `ONNXLoader`:
/// attributes are resolved and defaulted, constant shape subgraphs are folded away,
/// Dropout (inference) becomes identity. The comment names the node's inputs in order.
public enum Op: Sendable, Equatable {
    case conv(ConvAttributes)                 // x, w, [b]
    case gemm(GemmAttributes)                 // a, b, [c]
    case matMul                               // a, b (numpy matmul semantics)
    case add                                  // a, b (numpy broadcasting)
    case mul                                  // a, b (numpy broadcasting; one side constant in practice)
    case relu
    case clip(min: Float, max: Float)
    case leakyRelu(alpha: Float)
    case sigmoid
    case tanh
    case batchNormalization(epsilon: Float)   // x, scale, bias, mean, var (inference form)
    case maxPool(PoolAttributes)              // x
    case averagePool(PoolAttributes)          // x
    case globalAveragePool                    // x
    case flatten(axis: Int)                   // x
    /// ONNX semantics: 0 copies the input dim, -1 is inferred; an entry e <= -2 is the batch size
    /// times -1 - e (`Op.batchDimension(times:)`: attention folds the heads into the batch).
    case reshape(shape: [Int])                // x
    case concat(axis: Int)                    // x0, x1, ...
    case transpose(perm: [Int])               // x
    /// The entries `indices` of axis `axis` (an axis without the batch), in order: ONNX Slice, Split and
    /// Gather with constant indices lower to it.
    case take(axis: Int, indices: [Int])      // x
    case reduceMean(axes: [Int], keepDims: Bool)  // x; axes without the batch
    /// Zeros around x: [begin..., end...] per axis, 0 on the batch's (ONNX Pad, constant 0).
    case pad(pads: [Int])                     // x
    /// c (a constant of shape [1, ...]) repeated for every example: ONNX Expand of a constant to
    /// the batch size (a transformer's class token).
    case repeatBatch                          // c
    /// The rows of a table (a constant [V, D]) picked by token ids: ONNX Gather of a weight by data.
    /// The ids come first and the table second, as every quantizable layer reads its data then its weight.
    case embedding                            // ids, table
    case softmax(axis: Int)                   // x; an axis without the batch
    case logSoftmax(axis: Int)                // x; an axis without the batch
    case erf                                  // x
    /// x * Phi(x); with `tanhApproximation`, PyTorch's tanh form.
    case gelu(tanhApproximation: Bool)        // x
    /// x^exponent (Sqrt, Reciprocal, Pow by a constant, the decomposed LayerNorm).
    case power(exponent: Float)               // x
    case identity                             // x
    /// QuantizeLinear -> DequantizeLinear of one tensor (per-tensor parameters): Hutch's
    /// activation fake quantization, (clamp(round_half_even(x / scale) + zeroPoint) - zeroPoint) * scale.
    case fakeQuantize(scale: Float, zeroPoint: Int32, minCode: Int32, maxCode: Int32)  // x
    /// 0, 1, ..., N - 1 for a batch of N: ONNX Range(0, N, 1), with which PyTorch indexes each
    /// example's own entries (as_strided, advanced indexing of a mask).
    case batchRange                           // (no inputs)
    /// Booleans, comparisons and integer casts on data (0/1 and integers carried as floats):
    /// piecewise constant, so no derivatives flow through them.
    case discrete(DiscreteOp)                 // a, [b]
    /// ONNX Where with a condition that is data: x where c is not 0, else y (broadcasting).
    case select                               // c, x, y
    /// The elementwise maximum of the inputs (broadcasting; ONNX Max).
    case max                                  // x0, x1, ...
    /// ONNX GatherND: slices of data picked by the index tuples in the last axis of indices;
    /// the batch is axis 0 of both (`GraphBuilder+DataIndexing.swift`).
    case gatherND(batchDims: Int)             // data, indices
    /// Running sums along `axis` (an axis without the batch): ONNX CumSum, as RoBERTa numbers its
    /// tokens' positions. `exclusive` leaves each element out of its own sum, `reverse` sums from the end.
    case cumulativeSum(axis: Int, exclusive: Bool, reverse: Bool)  // x

    /// The reshape target entry for the batch size times `factor`.
    public static func batchDimension(times factor: Int) -> Int { -1 - factor }

    /// The factor k when a reshape target entry stands for the batch size times k.
    public static func batchFactor(ofDimension entry: Int) -> Int? { entry <= -2 ? -1 - entry : nil }

    /// The ONNX op type this was lowered from (for messages and `inspect`).
    public var onnxType: String {
        switch self {
        case .conv: "Conv"
        case .gemm: "Gemm"
        case .matMul: "MatMul"
        case .add: "Add"
        case .mul: "Mul"
        case .relu: "Relu"
        case .clip: "Clip"
        case .leakyRelu: "LeakyRelu"
        case .sigmoid: "Sigmoid"
        case .tanh: "Tanh"
        case .batchNormalization: "BatchNormalization"
        case .maxPool: "MaxPool"
        case .averagePool: "AveragePool"
        case .globalAveragePool: "GlobalAveragePool"
        case .flatten: "Flatten"
        case .reshape: "Reshape"
        case .concat: "Concat"
        case .transpose: "Transpose"
        case .take: "Slice"
        case .reduceMean: "ReduceMean"
        case .pad: "Pad"
        case .repeatBatch: "Expand"
        case .embedding: "Gather"
        case .softmax: "Softmax"
        case .logSoftmax: "LogSoftmax"
        case .erf: "Erf"
        case .gelu: "Gelu"
        case .power: "Pow"
        case .identity: "Identity"
        case .fakeQuantize: "FakeQuantize"
        case .batchRange: "Range"
        case .discrete(let op): op.onnxType
        case .select: "Where"
        case .max: "Max"
        case .gatherND: "GatherND"
        case .cumulativeSum: "CumSum"
        }
    }

    /// True when the op is piecewise linear in each of its inputs, so that a network made only of
    /// such ops has Hessian blocks equal to its Gauss-Newton blocks (Protocols/README.md, "Exact mode").
    /// Mul counts because one side is a constant in the networks Hutch accepts.
    public var isPiecewiseLinear: Bool {
        switch self {
        case .sigmoid, .tanh, .softmax, .logSoftmax, .erf, .gelu: false
        case .power(let p): p == 1 || p == 0
        default: true
        }
    }
}

/// Conv attributes with ONNX defaults applied and auto_pad resolved to explicit pads
/// (resolution needs the input's spatial size; `ONNXLoader` does it from static shapes).
public struct ConvAttributes: Sendable, Equatable {
    public var kernelShape: [Int]   // spatial dims only, e.g. [kH, kW]
    public var strides: [Int]
    public var pads: [Int]          // ONNX order: [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
    public var dilations: [Int]
    public var group: Int
    public init(kernelShape: [Int], strides: [Int], pads: [Int], dilations: [Int], group: Int) {
        self.kernelShape = kernelShape
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.group = group
    }
}

public struct GemmAttributes: Sendable, Equatable {
    public var transA: Bool
    public var transB: Bool
    public var alpha: Float
    public var beta: Float
    public init(transA: Bool = false, transB: Bool = false, alpha: Float = 1, beta: Float = 1) {
        self.transA = transA
        self.transB = transB
        self.alpha = alpha
        self.beta = beta
    }
}

/// MaxPool / AveragePool attributes with defaults applied and auto_pad resolved.
public struct PoolAttributes: Sendable, Equatable {
    public var kernelShape: [Int]
    public var strides: [Int]
    public var pads: [Int]          // ONNX order, as in ConvAttributes
    public var dilations: [Int]     // MaxPool only; all 1 for AveragePool
    public var ceilMode: Bool
    public var countIncludePad: Bool  // AveragePool only
    public init(kernelShape: [Int], strides: [Int], pads: [Int], dilations: [Int],
                ceilMode: Bool = false, countIncludePad: Bool = false) {
        self.kernelShape = kernelShape
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }
}

/// A node of the IR: an op, its inputs (nil for an omitted optional input) and its outputs.
public struct Node: Sendable, Equatable {
    public var name: String
    public var op: Op
    public var inputs: [ValueID?]
    public var outputs: [ValueID]
    public init(name: String, op: Op, inputs: [ValueID?], outputs: [ValueID]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A classifier graph: one data input (batch first; several ONNX inputs are packed into it,
/// `DataInput`), one logits output of shape [N, C],
/// nodes in topological order, and constant tensors (initializers plus folded constants).
public struct Graph: Sendable {
    public var values: [Value]
    public var nodes: [Node]
    public var input: ValueID
    public var output: ValueID
    public var initializers: [ValueID: Tensor<Float>]
    /// The input is integer token ids (an int64/int32 ONNX input), which Hutch carries as exact
    /// floats; an embedding lookup turns them into vectors.
    public var inputHoldsTokenIDs = false
    /// The ONNX graph's data inputs; with more than one, `input` is their packed form.
    public var dataInputs: [DataInput] = []

    public init(values: [Value], nodes: [Node], input: ValueID, output: ValueID,
                initializers: [ValueID: Tensor<Float>]) {
        self.values = values
        self.nodes = nodes
        self.input = input
        self.output = output
        self.initializers = initializers
    }
}
