import HutchModel
import HutchTensor

/// k directions on some parameters, stored as the sweeps read them (one block per direction):
/// built once for a run of probes and handed to each batch's `hessianQuadraticForms`, so that
/// Hutchinson holds its directions once, not also as k tensors per weight, and copies nothing
/// per call.
public struct StackedDirections<Scalar: TensorScalar>: @unchecked Sendable {
    let values: [ValueID: Stacked<Scalar>]
    /// The number of directions, k.
    public let count: Int
}

extension Executor {
    /// k directions on the parameters `ids`, block j of parameter id written by
    /// `fill(j, id, buffer)`, which must set every element of the buffer.
    public func stackedDirections(k: Int, on ids: [ValueID],
                                  fill: (Int, ValueID, UnsafeMutableBufferPointer<Scalar>) -> Void) throws(ExecutionError) -> StackedDirections<Scalar> {
        guard k >= 1 else { throw ExecutionError("Hessian quadratic forms: no directions given") }
        _ = try parameterSet(ids, what: "Hessian quadratic forms")
        var values = [ValueID: Stacked<Scalar>]()
        for id in ids where values[id] == nil {
            let s = Stacked<Scalar>(shape: parameters[id]!.shape, blocks: k, zeroed: false)
            for j in 0..<k { fill(j, id, UnsafeMutableBufferPointer(start: s.block(j), count: s.blockCount)) }
            values[id] = s
        }
        return StackedDirections(values: values, count: k)
    }

    /// The directions given as tensors; a parameter a direction leaves out is 0 there.
    func stackedDirections(_ directions: [[ValueID: Tensor<Scalar>]]) throws(ExecutionError) -> StackedDirections<Scalar> {
        let ids = Set(directions.flatMap(\.keys))
        for (j, direction) in directions.enumerated() {
            for (id, v) in direction where parameters[id] != nil && v.shape != parameters[id]!.shape {
                throw ExecutionError("Hessian quadratic forms: direction \(j) for '\(name(id))' has shape \(v.shape), expected \(parameters[id]!.shape)")
            }
        }
        return try stackedDirections(k: directions.count, on: ids.sorted()) { j, id, buffer in
            guard let v = directions[j][id] else { buffer.update(repeating: 0); return }
            v.data.withUnsafeBufferPointer { _ = buffer.update(fromContentsOf: $0) }
        }
    }
}
