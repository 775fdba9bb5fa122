/// A dense, row-major (C order) tensor of floating-point scalars.
///
/// Hutch computes in `Float`; `Double` exists so that tests can check derivatives against
/// finite differences without float32 round-off swamping the comparison.
public struct Tensor<Scalar: TensorScalar>: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Scalar]

    /// Creates a tensor; `data.count` must equal the product of `shape`.
    public init(shape: [Int], data: [Scalar]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(data.count == shape.reduce(1, *), "data count \(data.count) does not match shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Scalar](repeating: 0, count: shape.reduce(1, *)))
    }

    /// Number of scalars.
    @inlinable public var count: Int { data.count }

    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// The same scalars converted to another precision.
    public func converted<Other: TensorScalar>(to _: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(shape: shape, data: data.map { Other($0) })
    }

    /// The same scalars under another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }
}
