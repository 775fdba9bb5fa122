import HutchModel
import HutchTensor

/// ONNX GatherND: with b = batch_dims and k the length of the index tuples (the last axis of
/// indices), out[e, t, s] = data[e, tuple(e, t), s] for each batch entry e (the first b axes),
/// tuple t and element s of the slice after the k indexed axes. Indices may be constants shared
/// by every example ([1, ...] on axis 0) or data (exact integers carried as floats; negative ones
/// count from the end). With b = 0 the first index is a row of data's batch axis: it must be a
/// row of the tuple's own example, so that examples stay apart (PyTorch's as_strided and mask
/// indexing always read so). Linear in data: the transpose scatters the adjoint back, adding
/// where tuples repeat; the indices carry no derivative.
struct GatherNDRule: OpRule {
    let batchDims: Int

    func accepts(_ inputs: [ValueID?]) -> Bool { inputs.count == 2 && !inputs.contains(nil) }

    /// The output's shape, the slice length, and for each output slice the flat offset in data
    /// of the slice it copies.
    private func plan<S: TensorScalar>(_ c: OpCall<S>, batch: Int) throws(ExecutionError) -> (shape: [Int], slice: Int, offsets: [Int]) {
        let (data, indices) = (c.x[0]!, c.x[1]!)
        let (d, q, b) = (data.shape, indices.shape, batchDims)
        guard let k = q.last, k >= 1, q.count >= b + 1, b + k <= d.count,
              (0..<b).allSatisfy({ q[$0] == d[$0] || ($0 == 0 && q[0] == 1) }) else {
            throw ExecutionError.node(c.node, "indices \(q) with batch_dims \(b) do not fit data \(d)")
        }
        let product = { (dims: ArraySlice<Int>) in dims.reduce(1, *) }
        let (entries, indexEntries) = (product(d[..<b]), product(q[..<b]))
        let (tuples, slice, perEntry) = (product(q[b..<(q.count - 1)]), product(d[(b + k)...]), product(d[b...]))
        let axes = Array(d[b..<(b + k)])
        var strides = [Int](repeating: slice, count: k)
        for j in stride(from: k - 2, through: 0, by: -1) { strides[j] = strides[j + 1] * axes[j + 1] }
        // batch_dims 0: example m owns rows m * rows ..< (m + 1) * rows of data's axis 0
        let rows = d.isEmpty ? 0 : d[0] / max(batch, 1)
        guard b > 0 || (q[0] == batch && d[0] == rows * batch) else {
            throw ExecutionError.node(c.node, "indices \(q) and data \(d) do not hold the \(batch) examples on axis 0")
        }
        var offsets = [Int]()
        offsets.reserveCapacity(entries * tuples)
        for e in 0..<entries {
            let ie = e % indexEntries   // a constant [1, ...] serves every example
            for t in 0..<tuples {
                var offset = e * perEntry
                for j in 0..<k {
                    let raw = indices.pointer[(ie * tuples + t) * k + j]
                    guard raw == raw.rounded(), raw.magnitude <= S(axes[j]) else {
                        throw ExecutionError.node(c.node, "index \(raw) is not an integer inside axis \(b + j) of data \(d)")
                    }
                    let i = Int(raw) < 0 ? Int(raw) + axes[j] : Int(raw)
                    guard i >= 0, i < axes[j] else { throw ExecutionError.node(c.node, "index \(raw) is outside axis \(b + j) of data \(d)") }
                    if b == 0, j == 0, i / max(rows, 1) != t / max(tuples / batch, 1) {
                        throw ExecutionError.node(c.node, "example \(t / max(tuples / batch, 1)) reads row \(i) of example \(i / max(rows, 1)); Hutch keeps the examples of a batch apart")
                    }
                    offset += i * strides[j]
                }
                offsets.append(offset)
            }
        }
        return (Array(d[..<b]) + Array(q[b..<(q.count - 1)]) + Array(d[(b + k)...]), slice, offsets)
    }

    @_specialize(where S == Float)
    func forward<S: TensorScalar>(_ c: OpCall<S>, _ tape: inout Tape<S>) throws(ExecutionError) -> Stacked<S> {
        let p = try plan(c, batch: tape.batch)
        return gather(c.x[0]!, p.shape, p.slice, p.offsets)
    }

    @_specialize(where S == Float)
    func tangent<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ t: [Stacked<S>?], k: Int, _ tape: Tape<S>) throws(ExecutionError) -> Stacked<S>? {
        guard let t0 = t[0] else { return nil }
        let p = try plan(c, batch: tape.batch)
        return gather(t0, p.shape, p.slice, p.offsets)
    }

    @_specialize(where S == Float)
    func transpose<S: TensorScalar>(_ c: OpCall<S>, _ y: Stacked<S>, _ cot: Stacked<S>, need: [Bool], _ tape: Tape<S>) throws(ExecutionError) -> [Stacked<S>?] {
        guard need[0] else { return [nil, nil] }
        let p = try plan(c, batch: tape.batch)
        let d = Stacked<S>(shape: c.x[0]!.shape, blocks: cot.blocks)
        for j in 0..<cot.blocks {
            let (src, dst) = (cot.block(j), d.block(j))
            for (o, offset) in p.offsets.enumerated() {
                for s in 0..<p.slice { dst[offset + s] += src[o * p.slice + s] }
            }
        }
        return [d, nil]
    }

    private func gather<S: TensorScalar>(_ v: Stacked<S>, _ shape: [Int], _ slice: Int, _ offsets: [Int]) -> Stacked<S> {
        let out = Stacked<S>(shape: shape, blocks: v.blocks, zeroed: false)
        for j in 0..<v.blocks {
            let (src, dst) = (v.block(j), out.block(j))
            for (o, offset) in offsets.enumerated() { (dst + o * slice).update(from: src + offset, count: slice) }
        }
        return out
    }
}
