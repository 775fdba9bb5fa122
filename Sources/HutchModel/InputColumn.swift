/// An input array as the floats a `Dataset` holds, with what its checks need: dtype, shape, the
/// first token id outside ±2^24 and the first NaN or infinity (flat C-order indices). Made from
/// an array in memory or, a chunk at a time, from a file (`NPYStreamDecoder`), by one converter.
struct InputColumn {
    var dtype: NumPyArray.DType
    var shape: [Int]
    /// The elements as floats (of the `keptExamples` examples from `firstKept`); empty when the
    /// dtype is neither float32 nor an integer (refused).
    var floats: [Float] = []
    /// The examples `floats` holds: all of them, or the window a reader asked for (every element
    /// is checked all the same).
    var keptExamples: Int
    /// The index of the first example `floats` holds.
    var firstKept = 0
    var firstBadToken: (index: Int, id: Int64)?
    var firstNonFinite: Int?

    /// Whether the dtype converts: float32, or integers (token ids, masks).
    static func converts(_ dtype: NumPyArray.DType) -> Bool { dtype == .float32 || dtype.isInteger }

    var count: Int { shape.reduce(1, *) }

    init(dtype: NumPyArray.DType, shape: [Int], keeping examples: Range<Int>? = nil) {
        self.dtype = dtype
        self.shape = shape
        let all = 0..<(shape.first ?? 1)
        let window = examples?.clamped(to: all) ?? all
        firstKept = window.lowerBound
        keptExamples = window.count
    }

    /// Elements of one example.
    var exampleCount: Int { shape.isEmpty ? count : count / max(1, shape[0]) }
    /// Elements of the kept examples.
    var keptCount: Int { shape.isEmpty ? count : keptExamples * exampleCount }
    /// Elements before the first kept one.
    var skippedCount: Int { shape.isEmpty ? 0 : firstKept * exampleCount }

    /// An array already in memory (C order).
    init(_ array: NumPyArray) {
        self.init(dtype: array.dtype, shape: array.shape)
        guard Self.converts(dtype) else { return }
        var converter = FloatConverter(dtype: dtype)
        floats = [Float](repeating: 0, count: array.count)
        floats.withUnsafeMutableBufferPointer { out in array.bytes.withUnsafeBytes { converter.convert($0, into: out) } }
        note(converter)
    }

    /// The same column (holding every example) holding the floats of `examples` only (nil: all).
    func keeping(_ examples: Range<Int>?) -> InputColumn {
        guard let examples else { return self }
        var copy = self
        let window = examples.clamped(to: 0..<keptExamples)
        copy.firstKept = window.lowerBound
        copy.keptExamples = window.count
        if copy.keptCount < floats.count { copy.floats = Array(floats[copy.skippedCount..<(copy.skippedCount + copy.keptCount)]) }
        return copy
    }

    /// Takes what a converter found.
    mutating func note(_ converter: FloatConverter) {
        firstBadToken = converter.firstBadToken
        firstNonFinite = converter.firstNonFinite
    }
}

/// Converts little-endian .npy elements to Float as their bytes arrive, in any chunks (an
/// element split between two chunks is completed from the next), storing element i
/// at out[i - skipped] while that is inside out, and checking the rest without storing them.
struct FloatConverter {
    let dtype: NumPyArray.DType
    /// Elements before out[0] (a window that does not start at the first example).
    var skipped = 0
    /// Elements converted so far: the flat index of the next one.
    private(set) var index = 0
    private(set) var firstBadToken: (index: Int, id: Int64)?
    private(set) var firstNonFinite: Int?
    /// The leading bytes of an element the last chunk ended inside.
    private var partial: [UInt8] = []

    init(dtype: NumPyArray.DType) { self.dtype = dtype }

    mutating func convert(_ chunk: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        let size = dtype.size
        var start = 0
        if !partial.isEmpty {
            let taken = min(size - partial.count, chunk.count)
            partial += chunk[0..<taken]
            start = taken
            guard partial.count == size else { return }
            partial.withUnsafeBytes { store(element(in: $0, at: 0), into: out) }
            partial.removeAll(keepingCapacity: true)
        }
        let whole = (chunk.count - start) / size
        for e in 0..<whole { store(element(in: chunk, at: start + e * size), into: out) }
        partial += chunk[(start + whole * size)...]
    }

    /// One element as a float, or as the integer it is.
    private func element(in raw: UnsafeRawBufferPointer, at offset: Int) -> (float: Float, integer: Int64?) {
        switch dtype {
        case .float32: return (Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))), nil)
        case .float64: return (Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))), nil)
        case .int64: return integer(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
        case .int32: return integer(Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self))))
        case .int16: return integer(Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int16.self))))
        case .int8: return integer(Int64(raw.load(fromByteOffset: offset, as: Int8.self)))
        case .uint8: return integer(Int64(raw[offset]))
        }
    }

    private func integer(_ value: Int64) -> (float: Float, integer: Int64?) { (Float(value), value) }

    private mutating func store(_ value: (float: Float, integer: Int64?), into out: UnsafeMutableBufferPointer<Float>) {
        if let id = value.integer {
            // Ids are carried as exact float32: below 2^24 in magnitude.
            if firstBadToken == nil, id <= -(1 << 24) || id >= 1 << 24 { firstBadToken = (index, id) }
        } else if firstNonFinite == nil, !value.float.isFinite {
            firstNonFinite = index
        }
        if index >= skipped, index - skipped < out.count { out[index - skipped] = value.float }
        index += 1
    }
}
