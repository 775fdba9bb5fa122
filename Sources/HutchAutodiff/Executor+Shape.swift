import HutchModel
import HutchTensor

/// Flatten, Reshape, Identity (same scalars, new shape) and Concat.
extension Executor {
    func reshapeForward(_ node: Node, _ x: Stacked<Scalar>) throws(ExecutionError) -> Stacked<Scalar> {
        let shape: [Int]
        switch node.op {
        case .flatten(let axis):
            let a = axis < 0 ? axis + x.shape.count : axis
            guard a >= 0, a <= x.shape.count else {
                throw ExecutionError.node(node, "axis \(axis) is out of range for input shape \(x.shape)")
            }
            shape = [x.shape.prefix(a).reduce(1, *), x.shape.dropFirst(a).reduce(1, *)]
        case .reshape(let target):
            shape = try resolveReshape(node, target, x.shape)
        default:
            shape = x.shape
        }
        return Stacked(reshaping: x, to: shape)
    }

    /// ONNX Reshape: 0 copies the input dimension, one -1 is inferred.
    private func resolveReshape(_ node: Node, _ target: [Int], _ input: [Int]) throws(ExecutionError) -> [Int] {
        var shape = [Int]()
        var inferred: Int?
        for (i, d) in target.enumerated() {
            switch d {
            case 0:
                guard i < input.count else { throw ExecutionError.node(node, "shape \(target) copies dimension \(i) that input \(input) lacks") }
                shape.append(input[i])
            case -1:
                guard inferred == nil else { throw ExecutionError.node(node, "shape \(target) has more than one -1") }
                inferred = i; shape.append(1)
            default:
                guard d > 0 else { throw ExecutionError.node(node, "shape \(target) has invalid dimension \(d)") }
                shape.append(d)
            }
        }
        let total = input.reduce(1, *), known = shape.reduce(1, *)
        if let inferred {
            guard known > 0, total % known == 0 else {
                throw ExecutionError.node(node, "cannot reshape \(input) to \(target)")
            }
            shape[inferred] = total / known
        }
        guard shape.reduce(1, *) == total else { throw ExecutionError.node(node, "cannot reshape \(input) to \(target)") }
        return shape
    }

    private func concatLayout(_ axis: Int, _ shapes: [[Int]]) -> (outer: Int, inner: [Int]) {
        let outer = shapes[0].prefix(axis).reduce(1, *)
        return (outer, shapes.map { $0.dropFirst(axis).reduce(1, *) })
    }

    func concatForward(_ node: Node, _ axis: Int, _ x: [Stacked<Scalar>]) throws(ExecutionError) -> Stacked<Scalar> {
        let rank = x[0].shape.count
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else { throw ExecutionError.node(node, "axis \(axis) is out of range for rank \(rank)") }
        var shape = x[0].shape
        for other in x.dropFirst() {
            guard other.shape.count == rank,
                  (0..<rank).allSatisfy({ $0 == a || other.shape[$0] == shape[$0] }) else {
                throw ExecutionError.node(node, "inputs of shapes \(x.map(\.shape)) differ outside axis \(axis)")
            }
            shape[a] += other.shape[a]
        }
        let y = Stacked<Scalar>(shape: shape, zeroed: false)
        concatCopy(a, x.map { Optional($0) }, x.map(\.shape), y, block: 0)
        return y
    }

    /// Writes block j of each part (zeros for a missing part) side by side into block j of y.
    private func concatCopy(_ axis: Int, _ parts: [Stacked<Scalar>?], _ shapes: [[Int]], _ y: Stacked<Scalar>, block j: Int) {
        let (outer, inner) = concatLayout(axis, shapes)
        let row = inner.reduce(0, +)
        let out = y.block(j)
        var offset = 0
        for (p, part) in parts.enumerated() {
            for o in 0..<outer {
                let dst = out + o * row + offset
                if let part { dst.update(from: part.block(j) + o * inner[p], count: inner[p]) }
                else { dst.update(repeating: 0, count: inner[p]) }
            }
            offset += inner[p]
        }
    }

    func normalizedAxis(_ axis: Int, _ rank: Int) -> Int { axis < 0 ? axis + rank : axis }

    func concatTangent(_ axis: Int, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ t: [Stacked<Scalar>?], _ k: Int) -> Stacked<Scalar>? {
        guard t.contains(where: { $0 != nil }) else { return nil }
        let out = Stacked<Scalar>(shape: y.shape, blocks: k, zeroed: false)
        for j in 0..<k { concatCopy(normalizedAxis(axis, y.shape.count), t, x.map { $0!.shape }, out, block: j) }
        return out
    }

    func concatTranspose(_ axis: Int, _ x: [Stacked<Scalar>?], _ y: Stacked<Scalar>, _ cot: Stacked<Scalar>,
                         _ need: [Bool]) -> [Stacked<Scalar>?] {
        let shapes = x.map { $0!.shape }
        let (outer, inner) = concatLayout(normalizedAxis(axis, y.shape.count), shapes)
        let row = inner.reduce(0, +)
        var result: [Stacked<Scalar>?] = Array(repeating: nil, count: x.count)
        var offset = 0
        for p in 0..<x.count {
            if need[p] {
                let d = Stacked<Scalar>(shape: shapes[p], blocks: cot.blocks, zeroed: false)
                for j in 0..<cot.blocks {
                    for o in 0..<outer {
                        (d.block(j) + o * inner[p]).update(from: cot.block(j) + o * row + offset, count: inner[p])
                    }
                }
                result[p] = d
            }
            offset += inner[p]
        }
        return result
    }
}
