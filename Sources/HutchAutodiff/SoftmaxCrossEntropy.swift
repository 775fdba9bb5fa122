import HutchTensor

/// Mean softmax cross-entropy over integer labels, as PyTorch's `F.cross_entropy` (reduction
/// mean), with its gradient and its Hessian-vector product with respect to the logits.
struct SoftmaxCrossEntropy<Scalar: TensorScalar> {
    let batch: Int, classes: Int
    /// Row-wise softmax of the logits, [N, C].
    let probabilities: [Scalar]
    let loss: Scalar

    init(logits: Stacked<Scalar>, labels: [Int]) throws(ExecutionError) {
        let (n, c) = (logits.shape[0], logits.shape[1])
        guard labels.count == n else {
            throw ExecutionError("labels: \(labels.count) labels for a batch of \(n) examples")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= c }) {
            throw ExecutionError("labels: label \(labels[bad]) of example \(bad) is outside 0..<\(c)")
        }
        batch = n; classes = c
        (probabilities, loss) = Self.softmax(logits.pointer, batch, classes, labels)
    }

    /// Softmax probabilities without labels (for the exact-trace seeds).
    init(logits: Stacked<Scalar>) {
        batch = logits.shape[0]; classes = logits.shape[1]
        (probabilities, loss) = Self.softmax(logits.pointer, batch, classes, nil)
    }

    private static func softmax(_ z: UnsafePointer<Scalar>, _ n: Int, _ c: Int, _ labels: [Int]?) -> ([Scalar], Scalar) {
        var p = [Scalar](repeating: 0, count: n * c)
        var total: Double = 0
        for i in 0..<n {
            let row = z + i * c
            var top = row[0]
            for j in 1..<c where row[j] > top { top = row[j] }
            var sum: Scalar = 0
            for j in 0..<c { let e = Scalar.exp(row[j] - top); p[i * c + j] = e; sum += e }
            for j in 0..<c { p[i * c + j] /= sum }
            if let labels { total += Double(top + Scalar.log(sum) - row[labels[i]]) }
        }
        return (p, Scalar(total / Double(max(n, 1))))
    }

    /// dL/dz = (p - onehot(y)) / N.
    func gradient(labels: [Int]) -> Stacked<Scalar> {
        let g = Stacked<Scalar>(shape: [batch, classes], zeroed: false)
        let inv = 1 / Scalar(batch)
        for i in 0..<batch {
            for j in 0..<classes { g.pointer[i * classes + j] = probabilities[i * classes + j] * inv }
            g.pointer[i * classes + labels[i]] -= inv
        }
        return g
    }

    /// (d2L/dz2) t = p (.) (t - <p, t>) / N for each stacked tangent block.
    func hessianTimes(_ t: Stacked<Scalar>) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: t.shape, blocks: t.blocks, zeroed: false)
        let inv = 1 / Scalar(batch)
        for b in 0..<t.blocks {
            let (tb, ob) = (t.block(b), out.block(b))
            for i in 0..<batch {
                var dot: Scalar = 0
                for j in 0..<classes { dot += probabilities[i * classes + j] * tb[i * classes + j] }
                for j in 0..<classes {
                    ob[i * classes + j] = probabilities[i * classes + j] * (tb[i * classes + j] - dot) * inv
                }
            }
        }
        return out
    }
}
