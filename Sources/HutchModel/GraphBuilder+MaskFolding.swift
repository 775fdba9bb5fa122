import HutchTensor

/// Load-time evaluation of the ops exporters use to build attention masks from constants
/// (Swin's shifted-window mask: ConstantOfShape, ScatterND of slices, comparisons, Not, Pad,
/// Expand; BERT's padding mask: And).
extension GraphBuilder {
    static let maskFoldingOpTypes: Set<String> = ["ScatterND", "Not", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Xor",
                                                  "Pad", "Expand", "GatherElements"]

    /// The folded result of a mask op on constants; nil when `node` is none of them.
    func foldMaskOp(_ node: ONNXNodeProto, what: String, _ parts: [ConstantTensor?]) throws -> ConstantTensor? {
        func part(_ index: Int) throws -> ConstantTensor {
            guard index < parts.count, let value = parts[index] else { throw ModelError.invalidModel("\(what) is missing its input \(index)") }
            guard !value.hasBatchSymbol else { throw ModelError.invalidModel("\(what) computes with the batch size; Hutch needs it constant") }
            return value
        }
        switch node.opType {
        case "Not":
            let x = try part(0)
            return ConstantTensor(shape: x.shape, elements: .int64(x.floats.map { $0 == 0 ? 1 : 0 }))
        case "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Xor":
            let (a, b) = (try part(0), try part(1))
            guard let shape = Broadcasting.shape([a.shape, b.shape]), let total = checkedProduct(shape), total <= SizeLimits.foldedElements,
                  let op = DiscreteOp(onnxType: node.opType) else {
                throw ModelError.invalidModel("\(what): shapes \(a.shape) and \(b.shape) do not broadcast within the load-time limit")
            }
            let (ma, mb) = (Broadcasting.indexMap(from: a.shape, to: shape), Broadcasting.indexMap(from: b.shape, to: shape))
            let (x, y) = (a.floats, b.floats)
            return ConstantTensor(shape: shape, elements: .int64((0..<total).map { Int64(op.apply(Double(x[ma[$0]]), Double(y[mb[$0]]))) }))
        case "Expand":
            let (data, target) = (try part(0), try part(1))
            guard let dims = target.ints, dims.allSatisfy({ $0 >= 1 && $0 <= 1 << 20 }),
                  let shape = Broadcasting.shape([data.shape, dims.map { Int(clamping: $0) }]),
                  let total = checkedProduct(shape), total <= SizeLimits.foldedElements else {
                throw ModelError.invalidModel("\(what): \(data.shape) does not expand to \(target.ints ?? []) within the load-time limit")
            }
            let padded = Array(repeating: 1, count: shape.count - data.shape.count) + data.shape
            return data.picking(Broadcasting.indexMap(from: padded, to: shape), shape: shape)
        case "GatherElements":
            return try gatherElements(try part(0), indices: try part(1), node: node, what: what)
        case "ScatterND":
            return try scatterND(try part(0), indices: try part(1), updates: try part(2), node: node, what: what)
        case "Pad":
            let data = try part(0)
            let pads = try padAmounts(node, rank: data.shape.count, parts.count > 1 ? parts[1] : nil,
                                      axes: parts.count > 3 ? parts[3] : nil, what: what)
            let fill = (parts.count > 2 ? parts[2] : nil)?.floats.first ?? 0
            return try padded(data, pads, fill: fill, what: what)
        default:
            return nil
        }
    }

    /// ONNX GatherElements: out[i] = data[i with its `axis` coordinate replaced by indices[i]]
    /// (BERT picks its token-type ids so).
    private func gatherElements(_ data: ConstantTensor, indices: ConstantTensor, node: ONNXNodeProto, what: String) throws -> ConstantTensor {
        let rank = data.shape.count
        let raw = Int(clamping: node.int("axis", default: 0))
        let axis = raw < 0 ? raw + rank : raw
        guard let picks = indices.ints, indices.shape.count == rank, axis >= 0, axis < rank,
              zip(indices.shape, data.shape).enumerated().allSatisfy({ $0.offset == axis || $0.element.0 <= $0.element.1 }) else {
            throw ModelError.invalidModel("\(what): indices \(indices.shape) do not fit data \(data.shape) on axis \(raw)")
        }
        let dataStrides = Odometer.strides(of: data.shape)
        var flat = [Int]()
        for (pick, index) in zip(picks, Odometer(indices.shape)) {
            var i = Int(clamping: pick)
            if i < 0 { i += data.shape[axis] }
            guard i >= 0, i < data.shape[axis] else { throw ModelError.invalidModel("\(what): index \(pick) is out of range") }
            var at = index
            at[axis] = i
            flat.append(Odometer.offset(at, strides: dataStrides))
        }
        return data.picking(flat, shape: indices.shape)
    }

    /// ONNX ScatterND without reduction: data with the slices the index tuples name replaced.
    private func scatterND(_ data: ConstantTensor, indices: ConstantTensor, updates: ConstantTensor, node: ONNXNodeProto,
                           what: String) throws -> ConstantTensor {
        guard (node.string("reduction") ?? "none") == "none" else { throw ModelError.invalidModel("\(what): only reduction 'none' is supported") }
        guard let tuples = indices.ints, let k = indices.shape.last, k >= 1, k <= data.shape.count else {
            throw ModelError.invalidModel("\(what): indices must be integers with a last dimension of at most the data's rank")
        }
        let slice = data.shape[k...].reduce(1, *), count = tuples.count / k
        guard updates.count == count * slice else { throw ModelError.invalidModel("\(what): updates do not fit the indices") }
        var target = [Int]()
        for t in 0..<count {
            var flat = 0
            for axis in 0..<k {
                var i = Int(clamping: tuples[t * k + axis])
                if i < 0 { i += data.shape[axis] }
                guard i >= 0, i < data.shape[axis] else { throw ModelError.invalidModel("\(what): index \(tuples[t * k + axis]) is out of range") }
                flat = flat * data.shape[axis] + i
            }
            target.append(flat * slice)
        }
        switch (data.elements, updates.elements) {
        case (.int64(var values), .int64(let new)):
            for (t, start) in target.enumerated() { for e in 0..<slice { values[start + e] = new[t * slice + e] } }
            return ConstantTensor(shape: data.shape, elements: .int64(values))
        default:
            var values = data.floats
            let new = updates.floats
            for (t, start) in target.enumerated() { for e in 0..<slice { values[start + e] = new[t * slice + e] } }
            return ConstantTensor(shape: data.shape, elements: .float(values))
        }
    }

    /// Pad's [begin..., end...] per axis of a tensor of rank `rank` (mode constant only; the
    /// optional axes input of opset 18 names the padded axes).
    func padAmounts(_ node: ONNXNodeProto, rank: Int, _ pads: ConstantTensor?, axes: ConstantTensor?, what: String) throws -> [Int] {
        guard (node.string("mode") ?? "constant") == "constant" else {
            throw ModelError.invalidModel("\(what): mode '\(node.string("mode") ?? "")' is not supported (only constant)")
        }
        let raw = try pads.map { tensor -> [Int64] in
            guard let values = tensor.ints, !tensor.hasBatchSymbol else { throw ModelError.invalidModel("\(what): pads must be constant integers") }
            return values
        } ?? node.ints("pads") ?? []
        let named = try axes.map { tensor -> [Int] in
            guard let values = tensor.ints else { throw ModelError.invalidModel("\(what): axes must be integers") }
            return values.map { Int($0) < 0 ? Int($0) + rank : Int($0) }
        } ?? Array(0..<rank)
        guard raw.count == 2 * named.count, named.allSatisfy({ $0 >= 0 && $0 < rank }), raw.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
            throw ModelError.invalidModel("\(what): pads \(raw) do not fit rank \(rank) (negative pads are not supported)")
        }
        var result = [Int](repeating: 0, count: 2 * rank)
        for (i, axis) in named.enumerated() {
            result[axis] = Int(raw[i])
            result[axis + rank] = Int(raw[i + named.count])
        }
        return result
    }

    private func padded(_ data: ConstantTensor, _ pads: [Int], fill: Float, what: String) throws -> ConstantTensor {
        let rank = data.shape.count
        let shape = (0..<rank).map { data.shape[$0] + pads[$0] + pads[$0 + rank] }
        guard let total = checkedProduct(shape), total <= SizeLimits.foldedElements else {
            throw ModelError.invalidModel("\(what): the padded result \(shape) is too large to evaluate at load time")
        }
        var values = [Float](repeating: fill, count: total)
        let strides = Odometer.strides(of: shape), begin = Array(pads[..<rank])
        for (value, index) in zip(data.floats, Odometer(data.shape)) {
            values[Odometer.offset(zip(index, begin).map { $0 + $1 }, strides: strides)] = value
        }
        return ConstantTensor(shape: shape, elements: .float(values))
    }
}
