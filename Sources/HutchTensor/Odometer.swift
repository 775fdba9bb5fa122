/// The coordinates of a shape in row-major order, one step at a time: the walk that copies,
/// permutes, pads and gathers share (`for index in Odometer(shape)` or `advance()`).
public struct Odometer: Sequence, IteratorProtocol {
    public let shape: [Int]
    public private(set) var index: [Int]
    private var started = false

    public init(_ shape: [Int]) {
        self.shape = shape
        index = Array(repeating: 0, count: shape.count)
    }

    /// The next coordinate; nil after the last (at once for a shape with a zero dimension).
    public mutating func next() -> [Int]? {
        if !started {
            started = true
            return shape.contains(0) ? nil : index
        }
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < shape[axis] { return index }
            index[axis] = 0
            axis -= 1
        }
        return nil
    }

    /// The offset of `index` in a tensor with these strides (per axis of `shape`).
    public static func offset(_ index: [Int], strides: [Int]) -> Int {
        var total = 0
        for axis in index.indices { total += index[axis] * strides[axis] }
        return total
    }

    /// Row-major strides of a shape.
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return strides
    }
}

/// The same walk over `shape`, carrying the coordinate's offset in a tensor with other strides (a
/// permuted or broadcast view; a stride may be 0): one step adds one stride, carries subtract.
public struct StridedOffsets {
    @usableFromInline let shape: [Int]
    @usableFromInline let strides: [Int]
    @usableFromInline var index: [Int]
    @usableFromInline var current = 0

    public init(shape: [Int], strides: [Int]) {
        precondition(shape.count == strides.count, "StridedOffsets: one stride per axis")
        (self.shape, self.strides) = (shape, strides)
        index = Array(repeating: 0, count: shape.count)
    }

    /// The offset of the current coordinate: 0 at the first, and again after the last.
    @inlinable public var offset: Int { current }

    /// Steps to the next coordinate in row-major order (inlinable: transposes step once per row).
    @inlinable
    public mutating func advance() {
        var axis = shape.count - 1
        while axis >= 0 {
            index[axis] += 1
            current += strides[axis]
            if index[axis] < shape[axis] { return }
            current -= strides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}
