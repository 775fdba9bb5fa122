import HutchTensor

/// What a name of the ONNX graph stands for while loading: a constant known now, or an IR value.
enum Binding {
    case constant(ConstantTensor)
    case value(ValueID)
}

/// The state of one load: the IR built so far and what every ONNX name is bound to.
struct GraphBuilder {
    let source: String
    let opset: Int64
    /// Where tensors stored outside the model are read from.
    let external: ExternalDataFiles?
    var values: [Value] = []
    var nodes: [Node] = []
    var initializers: [ValueID: Tensor<Float>] = [:]
    var bindings: [String: Binding] = [:]
    /// Constants already materialized as IR values (each initializer appears once).
    var materialized: [String: ValueID] = [:]
    /// The batch size the model was exported with, when its input declares a fixed one.
    var exportedBatch: Int?
    /// How the batch-dependent dimension (nil in the shape) of a value holds the batch, where it
    /// is not plainly the batch (absent: outer 1, inner 1).
    var batchLayouts: [ValueID: BatchLayout] = [:]
    /// Whether the graph input is integer token ids (they travel as floats, exact below 2^24).
    var inputHoldsTokenIDs = false
    /// Names of the model file's initializers (weights), as opposed to constants folded here.
    var fileInitializers: Set<String> = []
    /// The graph's data inputs, in packing order.
    var described: [DataInput] = []
    /// The nodes that read each name of the ONNX graph, with the input position they read it at.
    var consumers: [String: [(node: ONNXNodeProto, position: Int)]] = [:]
    /// The graph's output names.
    var graphOutputs: Set<String> = []
    /// IsNaN outputs and the value each tests (GraphBuilder+Masks.swift).
    var nanTests: [String: ValueID] = [:]
    /// Constants that stand for a tensor expanded to the batch size, kept as [1, ...].
    var batchBroadcasts: Set<String> = []

    init(source: String, opset: Int64, external: ExternalDataFiles? = nil) {
        self.source = source
        self.opset = opset
        self.external = external
    }

    mutating func build(_ graph: ONNXGraphProto) throws -> Graph {
        for tensor in graph.initializers {
            guard !tensor.name.isEmpty else { throw ModelError.invalidModel("\(source): an initializer has no name") }
            fileInitializers.insert(tensor.name)
            bindings[tensor.name] = .constant(try tensor.constant(source: source, external: external))
        }
        let dataInputs = graph.inputs.filter { bindings[$0.name] == nil }
        guard !dataInputs.isEmpty else {
            throw ModelError.invalidModel("\(source): the graph has no data input (every input is an initializer); Hutch needs the batch of examples as an input")
        }
        guard graph.outputs.count == 1, let output = graph.outputs.first else {
            throw ModelError.invalidModel("\(source): the graph has \(graph.outputs.count) outputs; Hutch needs exactly one (the logits)")
        }
        let inputID = try addInputs(dataInputs)
        graphOutputs = Set(graph.outputs.map(\.name))
        for node in graph.nodes {
            for (position, name) in node.inputs.enumerated() where !name.isEmpty { consumers[name, default: []].append((node, position)) }
        }
        for (index, node) in graph.nodes.enumerated() {
            try add(node, index: index)
        }
        guard let binding = bindings[output.name] else {
            throw ModelError.invalidModel("\(source): graph output '\(output.name)' is not produced by any node")
        }
        guard case .value(let outputID) = binding else {
            throw ModelError.invalidModel("\(source): graph output '\(output.name)' is a constant; it must depend on the input")
        }
        let outputShape = values[outputID.index].shape ?? []
        // [N, classes] (classification, regression) or [N, tokens, vocabulary] (token heads)
        guard (2...3).contains(outputShape.count), outputShape[0] == nil, batchFactor(of: outputID) == 1,
              outputShape.dropFirst().allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ModelError.invalidModel("\(source): graph output '\(output.name)' has shape \(describe(outputShape)); Hutch needs logits [N, classes] or token logits [N, tokens, vocabulary]")
        }
        for (id, layout) in batchLayouts { values[id.index].batchFactor = layout.factor }
        var graph = Graph(values: values, nodes: nodes, input: inputID, output: outputID, initializers: initializers).pruned()
        graph.inputHoldsTokenIDs = inputHoldsTokenIDs
        graph.dataInputs = described
        return graph
    }

    /// The IR input: the one data input itself, or several packed into one (`DataInput`): each
    /// is bound to a Slice of the packed input's flat columns, reshaped to its own shape.
    private mutating func addInputs(_ inputs: [ONNXValueInfoProto]) throws -> ValueID {
        var checked: [DataInput] = []
        for input in inputs { checked.append(try describeInput(input)) }
        if inputs.count == 1 {
            described = checked
            inputHoldsTokenIDs = checked[0].holdsIntegers
            let id = addValue(inputs[0].name, shape: [nil] + checked[0].exampleShape.map { $0 })
            bindings[inputs[0].name] = .value(id)
            return id
        }
        let byName = Dictionary(checked.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        guard byName.count == checked.count else {
            throw ModelError.invalidModel("\(source): two graph inputs have the same name")
        }
        described = DataInput.packingOrder(checked.map(\.name)).compactMap { byName[$0] }
        inputHoldsTokenIDs = described.allSatisfy(\.holdsIntegers)
        guard let width = checkedProduct([described.reduce(0) { $0 + $1.exampleSize }]), width <= SizeLimits.elementsPerExample else {
            throw ModelError.invalidModel("\(source): the graph inputs together are too large (over 2^32 elements per example)")
        }
        let packed = addValue(Self.packedInputName, shape: [nil, width])
        var offset = 0
        for input in described {
            let columns = Array(offset..<(offset + input.exampleSize))
            offset += input.exampleSize
            let flat = try emit("\(input.name)/unpack", .take(axis: 1, indices: columns), [packed],
                                output: "\(input.name)/flat", shape: [nil, input.exampleSize])
            try emit("\(input.name)/reshape", .reshape(shape: [0] + input.exampleShape), [flat],
                     output: input.name, shape: [nil] + input.exampleShape.map { $0 })
        }
        return packed
    }

    /// The name of the packed input of a graph with several data inputs (not an ONNX name).
    static let packedInputName = "hutch:packed_inputs"

    /// Checks one graph input: float32, or int64/int32 (token ids, masks), every dimension but the batch fixed.
    private mutating func describeInput(_ input: ONNXValueInfoProto) throws -> DataInput {
        let what = "\(source): graph input '\(input.name)'"
        let integer: Set<Int32> = [ONNXTensorProto.DataType.int64.rawValue, ONNXTensorProto.DataType.int32.rawValue]
        guard input.elemType == ONNXTensorProto.DataType.float.rawValue || input.elemType.map(integer.contains) == true else {
            let type = input.elemType.flatMap { ONNXTensorProto.DataType(rawValue: $0)?.name } ?? "unknown"
            throw ModelError.invalidModel("\(what) has element type \(type); Hutch needs a float32 input or int64/int32 token ids")
        }
        guard let dims = input.shape, !dims.isEmpty else {
            throw ModelError.invalidModel("\(what) has no shape; export with a fixed example shape (e.g. [N, 3, 32, 32])")
        }
        var shape: [Int?] = [nil]
        if case .value(let batch) = dims[0], batch > 0 { exportedBatch = Int(batch) }
        for (axis, dim) in dims.enumerated().dropFirst() {
            guard case .value(let size) = dim, size > 0, size <= Int64(Int32.max) else {
                throw ModelError.invalidModel("\(what) dimension \(axis) is \(dim); Hutch needs every dimension but the batch to be fixed")
            }
            shape.append(Int(size))
        }
        guard let elements = checkedProduct(shape.compactMap { $0 }), elements <= SizeLimits.elementsPerExample else {
            throw ModelError.invalidModel("\(what) shape \(describe(shape)) is too large (over 2^32 elements per example)")
        }
        return DataInput(name: input.name, exampleShape: shape.compactMap { $0 }, holdsIntegers: input.elemType.map(integer.contains) == true)
    }

    mutating func addValue(_ name: String, shape: [Int?]) -> ValueID {
        values.append(Value(name: name, shape: shape))
        return ValueID(values.count - 1)
    }

    func shape(of id: ValueID) -> [Int?] { values[id.index].shape ?? [] }

    func batchLayout(of id: ValueID) -> BatchLayout { batchLayouts[id] ?? BatchLayout() }

    /// k when the value's batch-dependent dimension is the batch size times k (1 when it has none).
    func batchFactor(of id: ValueID) -> Int { batchLayout(of: id).factor }

    /// The IR value of a constant operand: the initializer (or folded constant) as a float tensor.
    mutating func materialize(_ name: String, _ constant: ConstantTensor, node: String) throws -> ValueID {
        if let id = materialized[name] { return id }
        var data: [Float]
        switch constant.elements {
        case .float(let values): data = values
        case .int64(let values):
            // integers beside data (index arithmetic, a boolean mask) are carried as exact floats
            guard !constant.hasBatchSymbol, values.allSatisfy({ $0.magnitude <= 1 << 24 }) else {
                throw ModelError.invalidModel("\(source): node '\(node)' uses integer tensor '\(name)' as data beyond 2^24 or with the batch size; Hutch carries integers as exact floats")
            }
            data = values.map(Float.init)
        }
        if !fileInitializers.contains(name) {
            // a mask folded from constants (a causal mask filled with -inf): the lowest float
            // masks as -inf does where it is added to scores before a softmax, and stays finite
            data = data.map { $0 == -.infinity ? -.greatestFiniteMagnitude : $0 }
        }
        if let bad = data.firstIndex(where: { !$0.isFinite }) {
            throw ModelError.invalidModel("\(source): initializer '\(name)' has \(data[bad]) at flat index \(bad); fix or retrain the model, weights must be finite")
        }
        let id = addValue(name, shape: constant.shape.map { $0 })
        initializers[id] = Tensor(shape: constant.shape, data: data)
        materialized[name] = id
        return id
    }

    /// Binds each node input name; "" is an omitted optional input.
    func inputs(of node: ONNXNodeProto, name: String) throws -> [Binding?] {
        try node.inputs.map { input in
            guard !input.isEmpty else { return nil }
            guard let binding = bindings[input] else {
                throw ModelError.invalidModel("\(source): node '\(name)' (\(node.opType)) reads '\(input)', which is no initializer, graph input or output of an earlier node")
            }
            return binding
        }
    }

    private mutating func add(_ node: ONNXNodeProto, index: Int) throws {
        let name = node.name.isEmpty ? "\(node.opType)_\(index)" : node.name
        if try lowerNaNGuard(node, name: name) { return }
        if let tested = node.inputs.first(where: { nanTests[$0] != nil }) {
            throw ModelError.invalidModel("\(source): node '\(name)' (\(node.opType)) reads '\(tested)', an IsNaN of data; Hutch reads those only as Where(IsNaN(x), 0, x)")
        }
        let operands = try inputs(of: node, name: name)
        if try lowerBatchRange(node, name: name, operands: operands) { return }
        let broadcastInput = try readsBatchBroadcast(node, name: name)
        let allConstant = operands.allSatisfy { operand in
            if case .value = operand { return false }
            return true
        }
        // Shape reads only the static shape; anything else on constants is evaluated now, but
        // for an Expand to the batch size, which makes data.
        let expandsToBatch = node.opType == "Expand" && operands.contains { operand in
            if case .constant(let value)? = operand { return value.hasBatchSymbol }
            return false
        }
        if expandsToBatch, case .constant? = operands.first ?? nil, let output = node.outputs.first, usedOnlyElementwise(output) {
            bindings[output] = .constant(try broadcastToBatch(node, name: name, operands: operands))
            batchBroadcasts.insert(output)
            return
        }
        if node.opType == "Shape" || (allConstant && !expandsToBatch) {
            let results = try fold(node, name: name, operands: operands)
            for (output, result) in zip(node.outputs, results) where !output.isEmpty {
                bindings[output] = .constant(result)
                if broadcastInput { batchBroadcasts.insert(output) }
            }
            return
        }
        if try lowerUniformGather(node, name: name, operands: operands) { return }
        if ONNXLoader.foldedOpTypes.contains(node.opType), !ONNXLoader.loweredOpTypes.contains(node.opType) {
            throw ModelError.invalidModel("\(source): node '\(name)' (\(node.opType)) computes on data that depends on the input; Hutch evaluates \(node.opType) only in constant shape computations")
        }
        try lower(node, name: name, operands: operands)
    }
}

/// A batch-dependent dimension of size outer * N * inner (N the batch size) whose entry j
/// belongs to example (j / inner) mod N. Attention makes such dimensions: it folds the heads
/// into the batch ([N, H, T, d] as [N * H, T, d]: outer 1, inner H) and, in PyTorch's
/// MultiheadAttention, the tokens around it ([T, N, E] as [T * N, E]: outer T, inner 1).
/// Examples stay apart as long as no op combines entries along such a dimension.
struct BatchLayout: Equatable {
    var outer = 1
    var inner = 1
    var factor: Int { outer * inner }
}

/// "[N, 3, 32, 32]" with N for symbolic dimensions.
func describe(_ shape: [Int?]) -> String {
    "[" + shape.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]"
}
