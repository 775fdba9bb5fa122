import HutchTensor

/// NumPy broadcasting of static shapes (used by constant folding and shape inference).
public enum Broadcasting {
    /// The broadcast shape of concrete shapes, or nil when they do not broadcast.
    public static func shape(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for shape in shapes {
            for (offset, dim) in shape.reversed().enumerated() {
                let axis = rank - 1 - offset
                if result[axis] == 1 { result[axis] = dim } else if dim != 1 && dim != result[axis] { return nil }
            }
        }
        return result
    }

    /// The broadcast shape where nil dimensions are symbolic (the batch), or nil when they do not broadcast.
    static func symbolicShape(_ a: [Int?], _ b: [Int?]) -> [Int?]? {
        let rank = max(a.count, b.count)
        let left = [Int?](repeating: 1, count: rank - a.count) + a
        let right = [Int?](repeating: 1, count: rank - b.count) + b
        var result: [Int?] = []
        for (x, y) in zip(left, right) {
            switch (x, y) {
            case (1, _): result.append(y)
            case (_, 1): result.append(x)
            case (nil, nil): result.append(nil)
            case (nil, let known?), (let known?, nil): result.append(known)
            case (let p?, let q?): if p == q { result.append(p) } else { return nil }
            }
        }
        return result
    }

    /// For each flat index of `output`, the flat index of the element of `input` it reads.
    public static func indexMap(from input: [Int], to output: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: output.count - input.count) + input
        var strides = [Int](repeating: 0, count: output.count)
        var step = 1
        for axis in stride(from: output.count - 1, through: 0, by: -1) {
            strides[axis] = padded[axis] == 1 ? 0 : step
            step *= padded[axis]
        }
        let total = output.reduce(1, *)
        var map = [Int](repeating: 0, count: total)
        var walk = StridedOffsets(shape: output, strides: strides)
        for flat in 0..<total {
            map[flat] = walk.offset
            walk.advance()
        }
        return map
    }
}
