/// A tensor of integers, row-major, batch first: the activation codes and int32 accumulators of
/// the integer-only network (`IntegerExecutor`).
public struct IntegerTensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Int32]

    public init(shape: [Int], data: [Int32]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }

    /// Elements per example.
    var perExample: Int { shape.dropFirst().reduce(1, *) }

    /// Sums formed in Int64, stored as int32. Wrapping int32 addition gives the same result
    /// whenever the final value fits, so checking the end result is exactly checking that an
    /// int32 accumulator suffices; a value that does not fit is an error, never a silent wrap.
    init(shape: [Int], sums: [Int64], node: String) throws(ExportError) {
        var data = [Int32](repeating: 0, count: sums.count)
        for (i, sum) in sums.enumerated() {
            guard let narrow = Int32(exactly: sum) else {
                throw ExportError(.model, "integer check: node '\(node)': value \(sum) overflows its int32 accumulator")
            }
            data[i] = narrow
        }
        self.init(shape: shape, data: data)
    }
}
