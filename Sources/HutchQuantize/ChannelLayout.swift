/// The elements of one channel of a row-major tensor: index = (o * channels + c) * inner + i
/// for o < outer, i < inner. Per-tensor quantization is one channel holding everything.
struct ChannelLayout: Sendable, Equatable {
    let outer: Int
    let channels: Int
    let inner: Int
    /// The channel axis, nil for per-tensor.
    let axis: Int?

    init(shape: [Int], granularity: Granularity) throws(QuantizerError) {
        let count = shape.reduce(1, *)
        guard count > 0 else { throw .emptyTensor(shape: shape) }
        switch granularity {
        case .perTensor:
            (outer, channels, inner, axis) = (1, 1, count, nil)
        case .perChannel(let axis):
            guard axis >= 0, axis < shape.count else { throw .axisOutOfRange(axis: axis, shape: shape) }
            outer = shape[..<axis].reduce(1, *)
            channels = shape[axis]
            inner = shape[(axis + 1)...].reduce(1, *)
            self.axis = axis
        }
    }

    var elementsPerChannel: Int { outer * inner }

    /// Copies channel `c` into `buffer` (resized), in increasing index order.
    func gather(_ data: [Float], channel c: Int, into buffer: inout [Float]) {
        buffer.removeAll(keepingCapacity: true)
        for o in 0..<outer {
            let start = (o * channels + c) * inner
            buffer.append(contentsOf: data[start..<(start + inner)])
        }
    }

    /// Writes `values` (in gather order) back into channel `c` of `data`.
    func scatter<T>(_ values: [T], channel c: Int, into data: inout [T]) {
        var k = 0
        for o in 0..<outer {
            let start = (o * channels + c) * inner
            for i in 0..<inner {
                data[start + i] = values[k]
                k += 1
            }
        }
    }
}

/// Rejects NaN and infinity, naming the first bad element.
func requireFinite(_ data: [Float]) throws(QuantizerError) {
    for (index, value) in data.enumerated() where !value.isFinite {
        throw .nonFiniteValue(index: index, value: value)
    }
}
