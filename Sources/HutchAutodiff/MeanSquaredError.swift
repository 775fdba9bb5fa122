import HutchTensor

/// Regression: L = sum over every entry of (o - y)^2 / normalizer, PyTorch's `F.mse_loss`
/// (reduction mean: normalizer = N * K for the whole batch). Gradient 2 (o - y) / normalizer,
/// Hessian 2 I / normalizer.
struct MeanSquaredError<Scalar: TensorScalar>: Loss {
    let residual: [Scalar]
    let shape: [Int]
    let normalizer: Int
    let loss: Scalar

    init(output: Stacked<Scalar>, targets: [Float], width: Int, normalizer: Int) throws(ExecutionError) {
        guard output.shape.count == 2, output.shape[1] == width, output.blockCount == targets.count else {
            throw ExecutionError("loss mse: the output has shape \(output.shape) but the targets are \(targets.count / max(width, 1)) x \(width)")
        }
        shape = output.shape
        self.normalizer = max(1, normalizer)
        residual = (0..<targets.count).map { output.pointer[$0] - Scalar(Double(targets[$0])) }
        var total = 0.0
        for r in residual { total += Double(r) * Double(r) }
        loss = Scalar(total / Double(self.normalizer))
    }

    func gradient() -> Stacked<Scalar> {
        let g = Stacked<Scalar>(shape: shape, zeroed: false)
        let scale = 2 / Scalar(normalizer)
        for (i, r) in residual.enumerated() { g.pointer[i] = r * scale }
        return g
    }

    func hessianTimes(_ t: Stacked<Scalar>) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: t.shape, blocks: t.blocks, zeroed: false)
        let scale = 2 / Scalar(normalizer)
        for i in 0..<t.count { out.pointer[i] = t.pointer[i] * scale }
        return out
    }
}
