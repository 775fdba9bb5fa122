import Foundation
import HutchTensor

/// Load-time evaluation of constant subgraphs: the shape computations exporters emit in front of
/// Reshape (Shape, Gather, Unsqueeze, Concat, Cast, Slice, ...) and any op whose inputs are all
/// constant. The symbolic batch size travels through them as `ConstantTensor.batch`.
extension GraphBuilder {
    func fold(_ node: ONNXNodeProto, name: String, operands: [Binding?]) throws -> [ConstantTensor] {
        let what = "\(source): node '\(name)' (\(node.opType))"
        func constant(_ index: Int) throws -> ConstantTensor {
            guard index < operands.count, let operand = operands[index], case .constant(let value) = operand else {
                throw ModelError.invalidModel("\(what) is missing its input \(index)")
            }
            return value
        }
        func optionalConstant(_ index: Int) throws -> ConstantTensor? {
            guard index < operands.count, operands[index] != nil else { return nil }
            return try constant(index)
        }
        func integers(_ tensor: ConstantTensor, _ role: String) throws -> [Int64] {
            guard let values = tensor.ints else { throw ModelError.invalidModel("\(what): \(role) must be an integer tensor") }
            return values
        }
        func plainIntegers(_ tensor: ConstantTensor, _ role: String) throws -> [Int] {
            let values = try integers(tensor, role)
            guard !values.contains(where: { ConstantTensor.batchFactor($0) != nil }) else {
                throw ModelError.invalidModel("\(what): \(role) depends on the batch size; Hutch needs it constant")
            }
            return values.map { Int(clamping: $0) }
        }
        /// Axes from input `index` (newer opsets) or the "axes" attribute (older ones).
        func axes(_ index: Int) throws -> [Int]? {
            if let tensor = try optionalConstant(index) { return try plainIntegers(tensor, "axes") }
            return node.ints("axes")?.map { Int(clamping: $0) }
        }
        func normalize(_ axis: Int, rank: Int) throws -> Int {
            let normalized = axis < 0 ? axis + rank : axis
            guard normalized >= 0, normalized < max(rank, 1) else {
                throw ModelError.invalidModel("\(what): axis \(axis) is out of range for rank \(rank)")
            }
            return normalized
        }

        switch node.opType {
        case "Constant":
            return [try constantAttribute(node, what: what)]

        case "Shape":
            guard let operand = operands.first, let operand else { throw ModelError.invalidModel("\(what) has no input") }
            let dims: [Int64]
            switch operand {
            case .constant(let value): dims = value.shape.map(Int64.init)
            case .value(let id): dims = shape(of: id).map { $0.map(Int64.init) ?? ConstantTensor.batch(times: Int64(batchFactor(of: id))) }
            }
            let rank = dims.count
            var start = Int(clamping: node.int("start", default: 0))
            var end = Int(clamping: node.int("end", default: Int64(rank)))
            if start < 0 { start += rank }
            if end < 0 { end += rank }
            start = min(max(start, 0), rank)
            end = min(max(end, start), rank)
            let slice = Array(dims[start..<end])
            return [ConstantTensor(shape: [slice.count], elements: .int64(slice))]

        case "Identity", "Dropout":
            return [try constant(0)]

        case "Gather":
            let data = try constant(0)
            let indicesTensor = try constant(1)
            let indices = try plainIntegers(indicesTensor, "indices")
            let axis = try normalize(Int(clamping: node.int("axis", default: 0)), rank: data.shape.count)
            guard !data.shape.isEmpty else { throw ModelError.invalidModel("\(what): cannot gather from a scalar") }
            let size = data.shape[axis]
            let outer = data.shape[..<axis].reduce(1, *)
            let inner = data.shape[(axis + 1)...].reduce(1, *)
            var picks: [Int] = []
            for o in 0..<outer {
                for raw in indices {
                    let index = raw < 0 ? raw + size : raw
                    guard index >= 0, index < size else {
                        throw ModelError.invalidModel("\(what): index \(raw) is out of range for dimension \(size)")
                    }
                    for i in 0..<inner { picks.append((o * size + index) * inner + i) }
                }
            }
            let shape = Array(data.shape[..<axis]) + indicesTensor.shape + Array(data.shape[(axis + 1)...])
            return [data.picking(picks, shape: shape)]

        case "Unsqueeze":
            var data = try constant(0)
            guard let list = try axes(1) else { throw ModelError.invalidModel("\(what) has no axes") }
            let rank = data.shape.count + list.count
            let normalized = try list.map { try normalize($0, rank: rank) }.sorted()
            guard Set(normalized).count == normalized.count else { throw ModelError.invalidModel("\(what): repeated axes \(list)") }
            for axis in normalized { data.shape.insert(1, at: axis) }
            return [data]

        case "Squeeze":
            var data = try constant(0)
            if let list = try axes(1) {
                let normalized = try Set(list.map { try normalize($0, rank: data.shape.count) })
                for axis in normalized where data.shape[axis] != 1 {
                    throw ModelError.invalidModel("\(what): dimension \(axis) has size \(data.shape[axis]), not 1")
                }
                data.shape = data.shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
            } else {
                data.shape = data.shape.filter { $0 != 1 }
            }
            return [data]

        case "Concat":
            let parts = try (0..<operands.count).compactMap { try optionalConstant($0) }
            guard let first = parts.first else { throw ModelError.invalidModel("\(what) has no inputs") }
            let axis = try normalize(Int(clamping: node.int("axis", default: 0)), rank: first.shape.count)
            for part in parts where part.shape.count != first.shape.count
                || zip(part.shape, first.shape).enumerated().contains(where: { $0.offset != axis && $0.element.0 != $0.element.1 }) {
                throw ModelError.invalidModel("\(what): shapes \(parts.map(\.shape)) do not concatenate on axis \(axis)")
            }
            let outer = first.shape[..<axis].reduce(1, *)
            let allInts = parts.allSatisfy { $0.ints != nil }
            var ints: [Int64] = []
            var floats: [Float] = []
            for o in 0..<outer {
                for part in parts {
                    let chunk = part.shape[axis...].reduce(1, *)
                    if allInts, let values = part.ints { ints += values[(o * chunk)..<((o + 1) * chunk)] } else {
                        floats += part.floats[(o * chunk)..<((o + 1) * chunk)]
                    }
                }
            }
            var shape = first.shape
            shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
            return [ConstantTensor(shape: shape, elements: allInts ? .int64(ints) : .float(floats))]

        case "Cast":
            let data = try constant(0)
            let target = ONNXTensorProto.DataType(rawValue: Int32(clamping: node.int("to", default: 0)))
            switch target {
            case .float, .double, .float16:
                guard !data.hasBatchSymbol else { throw ModelError.invalidModel("\(what): cannot cast the batch size to float") }
                return [ConstantTensor(shape: data.shape, elements: .float(data.floats))]
            case .int64, .int32, .int16, .int8, .uint8, .bool:
                if let ints = data.ints { return [ConstantTensor(shape: data.shape, elements: .int64(ints))] }
                let converted = try data.floats.map { value -> Int64 in
                    guard value.isFinite, abs(value) < 9.2e18 else { throw ModelError.invalidModel("\(what): cannot cast \(value) to an integer") }
                    return target == .bool ? (value != 0 ? 1 : 0) : Int64(value)
                }
                return [ConstantTensor(shape: data.shape, elements: .int64(converted))]
            default:
                throw ModelError.invalidModel("\(what) casts to an unsupported type \(node.int("to", default: 0))")
            }

        case "Slice":
            let data = try constant(0)
            let starts: [Int64], ends: [Int64]
            var axisList: [Int64]?, steps: [Int64]?
            if let s = try optionalConstant(1) {
                starts = try integers(s, "starts")
                ends = try integers(try constant(2), "ends")
                axisList = try optionalConstant(3).map { try integers($0, "axes") }
                steps = try optionalConstant(4).map { try integers($0, "steps") }
            } else {
                starts = node.ints("starts") ?? []
                ends = node.ints("ends") ?? []
                axisList = node.ints("axes")
            }
            let rank = data.shape.count
            let sliceAxes = axisList ?? (0..<Int64(starts.count)).map { $0 }
            guard starts.count == ends.count, sliceAxes.count == starts.count, (steps?.count ?? starts.count) == starts.count else {
                throw ModelError.invalidModel("\(what): starts, ends, axes and steps differ in length")
            }
            var begin = [Int](repeating: 0, count: rank)
            var step = [Int](repeating: 1, count: rank)
            var count = data.shape
            for (k, rawAxis) in sliceAxes.enumerated() {
                let axis = try normalize(Int(clamping: rawAxis), rank: rank)
                let size = data.shape[axis]
                let stepValue = Int(max(min(steps?[k] ?? 1, Int64(Int32.max)), -Int64(Int32.max)))
                guard stepValue != 0 else { throw ModelError.invalidModel("\(what): step 0") }
                var s = Int(clamping: starts[k]), e = Int(clamping: ends[k])
                if s < 0 { s += size }
                if e < 0 { e += size }
                if stepValue > 0 {
                    s = min(max(s, 0), size); e = min(max(e, 0), size)
                    count[axis] = e > s ? (e - s + stepValue - 1) / stepValue : 0
                } else {
                    s = min(max(s, -1), size - 1); e = min(max(e, -1), size - 1)
                    count[axis] = s > e ? (s - e - stepValue - 1) / (-stepValue) : 0
                }
                begin[axis] = s
                step[axis] = stepValue
            }
            let strides = Odometer.strides(of: data.shape)
            let picks = Odometer(count).map { index in
                Odometer.offset((0..<rank).map { begin[$0] + index[$0] * step[$0] }, strides: strides)
            }
            return [data.picking(picks, shape: count)]

        case "Reshape", "Flatten":
            let data = try constant(0)   // a shape vector may hold the batch symbol: it only moves
            let target: [Int]
            if node.opType == "Flatten" {
                let axis = try normalize(Int(clamping: node.int("axis", default: 1)), rank: data.shape.count + 1)
                target = [data.shape[..<axis].reduce(1, *), data.shape[axis...].reduce(1, *)]
            } else {
                let requested = try plainIntegers(try constant(1), "shape")
                let resolved = requested.enumerated().map { $0.element == 0 && $0.offset < data.shape.count ? data.shape[$0.offset] : $0.element }
                guard let known = checkedProduct(resolved.filter { $0 != -1 }),
                      resolved.filter({ $0 == -1 }).count <= 1, known > 0 || data.count == 0 else {
                    throw ModelError.invalidModel("\(what): invalid target shape \(requested)")
                }
                target = resolved.map { $0 == -1 ? data.count / max(known, 1) : $0 }
            }
            guard target.allSatisfy({ $0 >= 0 }), checkedProduct(target) == data.count else {
                throw ModelError.invalidModel("\(what): cannot reshape \(data.shape) to \(target)")
            }
            return [ConstantTensor(shape: target, elements: data.elements)]

        case "Transpose":
            // Exporters sometimes leave a Transpose of a weight initializer unfolded.
            let data = try constant(0)
            let rank = data.shape.count
            let perm = try node.ints("perm").map { try $0.map { try normalize(Int(clamping: $0), rank: rank) } } ?? Array((0..<rank).reversed())
            guard perm.count == rank, Set(perm).count == rank else { throw ModelError.invalidModel("\(what): invalid perm \(perm) for rank \(rank)") }
            let shape = perm.map { data.shape[$0] }
            let strides = Odometer.strides(of: data.shape)
            var picks: [Int] = []
            picks.reserveCapacity(data.count)
            for index in Odometer(shape) { picks.append(zip(perm, index).reduce(0) { $0 + strides[$1.0] * $1.1 }) }
            return [data.picking(picks, shape: shape)]

        case "Trilu":
            // a causal mask made from constants: keep the entries on one side of diagonal k
            let data = try constant(0)
            let k = operands.count > 1 && operands[1] != nil ? (try constant(1).ints?.first ?? 0) : 0
            guard data.shape.count >= 2, !data.hasBatchSymbol else { throw ModelError.invalidModel("\(what) needs a constant matrix") }
            let (rows, columns) = (data.shape[data.shape.count - 2], data.shape[data.shape.count - 1])
            let upper = node.int("upper", default: 1) != 0
            let keep = (0..<data.count).map { flat in
                let (i, j) = ((flat / max(columns, 1)) % max(rows, 1), flat % max(columns, 1))
                return upper ? Int64(j - i) >= k : Int64(j - i) <= k
            }
            switch data.elements {
            case .int64(let v): return [ConstantTensor(shape: data.shape, elements: .int64(zip(v, keep).map { $1 ? $0 : 0 }))]
            case .float(let v): return [ConstantTensor(shape: data.shape, elements: .float(zip(v, keep).map { $1 ? $0 : 0 }))]
            }

        case "Range":
            let (start, limit, delta) = (try constant(0), try constant(1), try constant(2))
            if let s = start.ints, let l = limit.ints, let d = delta.ints, s.count == 1, l.count == 1, d.count == 1 {
                guard !(start.hasBatchSymbol || limit.hasBatchSymbol || delta.hasBatchSymbol) else {
                    throw ModelError.invalidModel("\(what) depends on the batch size; Hutch needs it constant")
                }
                guard d[0] != 0 else { throw ModelError.invalidModel("\(what): delta is 0") }
                // ceil((limit - start) / delta) entries, counted before any is made
                let (span, step) = (l[0].subtractingReportingOverflow(s[0]), d[0])
                guard !span.overflow else { throw ModelError.invalidModel("\(what): the range is too long") }
                let count = max(0, span.partialValue / step + (span.partialValue % step != 0 ? 1 : 0))
                guard count <= SizeLimits.foldedElements else { throw ModelError.invalidModel("\(what): the range is too long") }
                return [ConstantTensor(shape: [Int(count)], elements: .int64((0..<count).map { s[0] + $0 * step }))]
            }
            let (s, l, d) = (start.floats, limit.floats, delta.floats)
            guard s.count == 1, l.count == 1, d.count == 1, d[0] != 0, s[0].isFinite, l[0].isFinite, d[0].isFinite else {
                throw ModelError.invalidModel("\(what): start, limit and delta must be finite scalars, delta not 0")
            }
            let entries = ((Double(l[0]) - Double(s[0])) / Double(d[0])).rounded(.up)   // a Double: no trap when huge
            guard entries <= Double(SizeLimits.foldedElements) else { throw ModelError.invalidModel("\(what): the range is too long") }
            let count = max(Int(entries), 0)
            return [ConstantTensor(shape: [count], elements: .float((0..<count).map { s[0] + Float($0) * d[0] }))]

        case "Sqrt":
            let data = try constant(0)
            guard !data.hasBatchSymbol else { throw ModelError.invalidModel("\(what) computes with the batch size; Hutch needs it constant") }
            return [ConstantTensor(shape: data.shape, elements: .float(data.floats.map { $0.squareRoot() }))]

        case "Ceil", "Floor":
            // a size rounded to whole patches (MobileViT's ceil(h / patch) * patch, traced)
            let data = try constant(0)
            guard !data.hasBatchSymbol else { throw ModelError.invalidModel("\(what) computes with the batch size; Hutch needs it constant") }
            guard case .float(let values) = data.elements else { return [data] }   // integers are whole already
            let rule: FloatingPointRoundingRule = node.opType == "Ceil" ? .up : .down
            return [ConstantTensor(shape: data.shape, elements: .float(values.map { $0.rounded(rule) }))]

        case "Add", "Sub", "Mul", "Div", "Mod", "Pow", "Equal", "Where":
            return [try foldElementwise(node, what: what, parts: (0..<operands.count).map { try constant($0) })]

        case "ConstantOfShape":
            let dims = try plainIntegers(try constant(0), "shape")
            guard dims.allSatisfy({ $0 >= 0 }), let count = checkedProduct(dims), count <= SizeLimits.foldedElements else {
                throw ModelError.invalidModel("\(what): invalid or too large shape \(dims)")
            }
            let fill = try node.attribute("value")?.t.map { try $0.constant(source: source, external: external) }
            switch fill?.elements {
            case .int64(let values)?: return [ConstantTensor(shape: dims, elements: .int64(Array(repeating: values.first ?? 0, count: count)))]
            case .float(let values)?: return [ConstantTensor(shape: dims, elements: .float(Array(repeating: values.first ?? 0, count: count)))]
            case nil: return [ConstantTensor(shape: dims, elements: .float(Array(repeating: 0, count: count)))]
            }

        default:
            let parts = try (0..<operands.count).map { try optionalConstant($0) }
            if let result = try foldMaskOp(node, what: what, parts) { return [result] }
            throw ModelError.invalidModel("\(what) has only constant inputs and Hutch does not evaluate \(node.opType) at load time; export with do_constant_folding=True")
        }
    }

    private func constantAttribute(_ node: ONNXNodeProto, what: String) throws -> ConstantTensor {
        if let tensor = node.attribute("value")?.t { return try tensor.constant(source: source, external: external) }
        if let attribute = node.attribute("value_float"), let f = attribute.f { return ConstantTensor(shape: [], elements: .float([f])) }
        if let attribute = node.attribute("value_floats") { return ConstantTensor(shape: [attribute.floats.count], elements: .float(attribute.floats)) }
        if let attribute = node.attribute("value_int"), let i = attribute.i { return ConstantTensor(shape: [], elements: .int64([i])) }
        if let attribute = node.attribute("value_ints") { return ConstantTensor(shape: [attribute.ints.count], elements: .int64(attribute.ints)) }
        throw ModelError.invalidModel("\(what) has no value Hutch can read (value, value_float(s) or value_int(s))")
    }

    /// N * k times or divided by a positive constant, as N * k' (nil when neither operand is a
    /// batch symbol); any other arithmetic with the batch size is refused.
    private func batchArithmetic(_ op: String, _ nx: Int64?, _ x: Int64, _ ny: Int64?, _ y: Int64, what: String) throws -> Int64? {
        guard nx != nil || ny != nil else { return nil }
        let refusal = ModelError.invalidModel("\(what) computes with the batch size; Hutch needs shape computations that do not depend on it, beyond multiplying or dividing it by a constant")
        switch (op, nx, ny) {
        case ("Mul", let k?, nil) where y > 0, ("Mul", nil, let k?) where x > 0:
            let (product, overflow) = k.multipliedReportingOverflow(by: nx == nil ? x : y)
            guard !overflow, ConstantTensor.batchFactor(ConstantTensor.batch(times: product)) == product else { throw refusal }
            return ConstantTensor.batch(times: product)
        case ("Div", let k?, nil) where y > 0 && k % y == 0:
            return ConstantTensor.batch(times: k / y)
        default:
            throw refusal
        }
    }

    /// Broadcasting arithmetic and comparison on constants; integer results stay integers.
    private func foldElementwise(_ node: ONNXNodeProto, what: String, parts: [ConstantTensor]) throws -> ConstantTensor {
        let expected = node.opType == "Where" ? 3 : 2
        guard parts.count == expected else { throw ModelError.invalidModel("\(what) needs \(expected) inputs") }
        guard let shape = Broadcasting.shape(parts.map(\.shape)) else {
            throw ModelError.invalidModel("\(what): shapes \(parts.map(\.shape)) do not broadcast")
        }
        let maps = parts.map { Broadcasting.indexMap(from: $0.shape, to: shape) }
        guard let total = checkedProduct(shape), total <= SizeLimits.foldedElements else {
            throw ModelError.invalidModel("\(what): the result \(shape) is too large to evaluate at load time")
        }
        if node.opType == "Where" {
            guard let condition = parts[0].ints else { throw ModelError.invalidModel("\(what): condition must be boolean") }
            let picked = (0..<total).map { condition[maps[0][$0]] != 0 }
            if let x = parts[1].ints, let y = parts[2].ints {
                return ConstantTensor(shape: shape, elements: .int64((0..<total).map { picked[$0] ? x[maps[1][$0]] : y[maps[2][$0]] }))
            }
            let x = parts[1].floats, y = parts[2].floats
            return ConstantTensor(shape: shape, elements: .float((0..<total).map { picked[$0] ? x[maps[1][$0]] : y[maps[2][$0]] }))
        }
        if let a = parts[0].ints, let b = parts[1].ints {
            var result: [Int64] = []
            result.reserveCapacity(total)
            for flat in 0..<total {
                let x = a[maps[0][flat]], y = b[maps[1][flat]]
                let (nx, ny) = (ConstantTensor.batchFactor(x), ConstantTensor.batchFactor(y))
                if node.opType == "Equal" {
                    // The batch size is at least 1, so N * k differs from 0 and -1 and equals itself.
                    if (nx != nil) != (ny != nil), max(x, y) > 0 {
                        throw ModelError.invalidModel("\(what) compares the batch size with \(max(x, y)); Hutch needs shape computations that do not depend on the batch size")
                    }
                    result.append(x == y ? 1 : 0)
                    continue
                }
                if let scaled = try batchArithmetic(node.opType, nx, x, ny, y, what: what) {
                    result.append(scaled)
                    continue
                }
                switch node.opType {
                case "Add": result.append(x &+ y)
                case "Sub": result.append(x &- y)
                case "Mul": result.append(x &* y)
                case "Pow":
                    guard y >= 0, y < 64 else { throw ModelError.invalidModel("\(what): integer exponent \(y) is out of range") }
                    var p: Int64 = 1
                    for _ in 0..<y { p = p &* x }
                    result.append(p)
                case "Mod":
                    guard y != 0 else { throw ModelError.invalidModel("\(what) divides by zero") }
                    // fmod = 0: the result takes the divisor's sign, as Python's %
                    let r = x % y
                    result.append(r != 0 && (r < 0) != (y < 0) ? r + y : r)
                default:
                    guard y != 0 else { throw ModelError.invalidModel("\(what) divides by zero") }
                    result.append(x / y)
                }
            }
            return ConstantTensor(shape: shape, elements: .int64(result))
        }
        guard !parts[0].hasBatchSymbol, !parts[1].hasBatchSymbol else {
            throw ModelError.invalidModel("\(what) computes with the batch size; Hutch needs shape computations that do not depend on it")
        }
        let a = parts[0].floats, b = parts[1].floats
        if node.opType == "Equal" {
            return ConstantTensor(shape: shape, elements: .int64((0..<total).map { a[maps[0][$0]] == b[maps[1][$0]] ? 1 : 0 }))
        }
        let op: (Float, Float) -> Float
        switch node.opType {
        case "Mod": op = { x, y in node.int("fmod", default: 0) != 0 ? x.truncatingRemainder(dividingBy: y) : x - y * (x / y).rounded(.down) }
        case "Pow": op = { Float(Foundation.pow(Double($0), Double($1))) }
        case "Add": op = (+)
        case "Sub": op = (-)
        case "Mul": op = (*)
        default: op = (/)
        }
        return ConstantTensor(shape: shape, elements: .float((0..<total).map { op(a[maps[0][$0]], b[maps[1][$0]]) }))
    }
}
