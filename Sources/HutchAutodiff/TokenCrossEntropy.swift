import HutchModel
import HutchTensor

/// Token classification and causal language modelling: logits [N, T, V], labels [N, T] with
/// `LossTargets.ignoredToken` (-100) for tokens that do not count. L is the softmax
/// cross-entropy summed over the tokens that count, divided by the normalizer (their number in
/// the whole batch): PyTorch's `F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1),
/// ignore_index=-100)`. The counted rows are gathered into [M, V] for `SoftmaxCrossEntropy`,
/// and its gradient and Hessian-vector products scattered back; ignored rows get zeros.
struct TokenCrossEntropy<Scalar: TensorScalar>: Loss {
    let ce: SoftmaxCrossEntropy<Scalar>
    let shape: [Int]
    /// Rows (n * T + t) of the tokens that count, in order, and their labels.
    let rows: [Int]
    let labels: [Int]
    var loss: Scalar { ce.loss }

    init(logits: Stacked<Scalar>, labels all: [Int], tokens: Int, normalizer: Int) throws(ExecutionError) {
        guard logits.shape.count == 3, logits.shape[1] == tokens, logits.shape[0] * tokens == all.count else {
            throw ExecutionError("loss token-ce: the output has shape \(logits.shape) but the labels are \(all.count / max(tokens, 1)) x \(tokens); token logits are [N, T, V]")
        }
        shape = logits.shape
        let vocabulary = logits.shape[2]
        if let bad = all.firstIndex(where: { $0 != LossTargets.ignoredToken && ($0 < 0 || $0 >= vocabulary) }) {
            throw ExecutionError("labels: token label \(all[bad]) of example \(bad / tokens), token \(bad % tokens) is outside 0..<\(vocabulary) (and not -100, ignored)")
        }
        rows = all.indices.filter { all[$0] != LossTargets.ignoredToken }
        labels = rows.map { all[$0] }
        let counted = Stacked<Scalar>(shape: [rows.count, vocabulary], zeroed: false)
        Self.copyRows(rows, vocabulary, blocks: 1, from: logits, gathering: true, into: counted)
        ce = try SoftmaxCrossEntropy(logits: counted, labels: labels, normalizer: normalizer)
    }

    func gradient() -> Stacked<Scalar> {
        let g = Stacked<Scalar>(shape: shape)
        Self.copyRows(rows, shape[2], blocks: 1, from: ce.gradient(labels: labels), gathering: false, into: g)
        return g
    }

    func hessianTimes(_ t: Stacked<Scalar>) -> Stacked<Scalar> {
        let vocabulary = shape[2]
        let counted = Stacked<Scalar>(shape: [rows.count, vocabulary], blocks: t.blocks, zeroed: false)
        Self.copyRows(rows, vocabulary, blocks: t.blocks, from: t, gathering: true, into: counted)
        let out = Stacked<Scalar>(shape: t.shape, blocks: t.blocks)
        Self.copyRows(rows, vocabulary, blocks: t.blocks, from: ce.hessianTimes(counted), gathering: false, into: out)
        return out
    }

    /// Gathers rows `rows` of each block of `source` into consecutive rows of `target`, or
    /// (gathering false) scatters consecutive rows of `source` to rows `rows` of `target`.
    private static func copyRows(_ rows: [Int], _ width: Int, blocks: Int, from source: Stacked<Scalar>,
                                 gathering: Bool, into target: Stacked<Scalar>) {
        for b in 0..<blocks {
            let (s, d) = (source.block(b), target.block(b))
            for (m, row) in rows.enumerated() {
                let (from, to) = gathering ? (row * width, m * width) : (m * width, row * width)
                (d + to).update(from: s + from, count: width)
            }
        }
    }
}
