import HutchModel
import HutchTensor

/// A loss head: the loss of one batch's output against its targets, its gradient and its
/// Hessian-vector product with respect to the output. One file per head; `makeLoss` chooses.
protocol Loss<Scalar> {
    associatedtype Scalar: TensorScalar
    var loss: Scalar { get }
    /// dL/d output, shaped as the output.
    func gradient() -> Stacked<Scalar>
    /// (d2L/d output2) t for each stacked tangent block of t.
    func hessianTimes(_ t: Stacked<Scalar>) -> Stacked<Scalar>
}

/// The head for `targets` on `output`; `normalizer` is the whole batch's denominator when the
/// output is a chunk of it (default: these targets' own).
func makeLoss<Scalar: TensorScalar>(output: Stacked<Scalar>, targets: LossTargets,
                                    normalizer: Int? = nil) throws(ExecutionError) -> any Loss<Scalar> {
    switch targets {
    case .classes(let labels):
        guard output.shape.count == 2 else {
            throw ExecutionError("loss ce: the output has shape \(output.shape), not class logits [N, C]")
        }
        return ClassCrossEntropy(ce: try SoftmaxCrossEntropy(logits: output, labels: labels, normalizer: normalizer), labels: labels)
    case .tokens(let labels, let tokens):
        return try TokenCrossEntropy(logits: output, labels: labels, tokens: tokens, normalizer: normalizer ?? targets.normalizer)
    case .values(let values, let width):
        return try MeanSquaredError(output: output, targets: values, width: width, normalizer: normalizer ?? targets.normalizer)
    }
}

/// Classification: `SoftmaxCrossEntropy` with its labels.
struct ClassCrossEntropy<Scalar: TensorScalar>: Loss {
    let ce: SoftmaxCrossEntropy<Scalar>
    let labels: [Int]
    var loss: Scalar { ce.loss }
    func gradient() -> Stacked<Scalar> { ce.gradient(labels: labels) }
    func hessianTimes(_ t: Stacked<Scalar>) -> Stacked<Scalar> { ce.hessianTimes(t) }
}
