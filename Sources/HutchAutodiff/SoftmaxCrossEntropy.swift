import HutchTensor

/// Mean softmax cross-entropy over integer labels, as PyTorch's `F.cross_entropy` (reduction
/// mean), with its gradient and its Hessian-vector product with respect to the logits.
struct SoftmaxCrossEntropy<Scalar: TensorScalar> {
    let batch: Int, classes: Int
    /// The mean's denominator: the batch, or the whole batch when these logits are a chunk of it.
    let normalizer: Int
    /// Row-wise softmax of the logits, [N, C].
    let probabilities: [Scalar]
    let loss: Scalar

    init(logits: Stacked<Scalar>, labels: [Int], normalizer: Int? = nil) throws(ExecutionError) {
        let (n, c) = (logits.shape[0], logits.shape[1])
        guard labels.count == n else {
            throw ExecutionError("labels: \(labels.count) labels for a batch of \(n) examples")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= c }) {
            throw ExecutionError("labels: label \(labels[bad]) of example \(bad) is outside 0..<\(c)")
        }
        batch = n; classes = c
        self.normalizer = max(1, normalizer ?? n)
        (probabilities, loss) = Self.softmax(logits.pointer, batch, classes, labels, self.normalizer)
    }

    /// Softmax probabilities without labels (for the exact-trace seeds).
    init(logits: Stacked<Scalar>) {
        batch = logits.shape[0]; classes = logits.shape[1]
        normalizer = max(1, batch)
        (probabilities, loss) = Self.softmax(logits.pointer, batch, classes, nil, normalizer)
    }

    private static func softmax(_ z: UnsafePointer<Scalar>, _ n: Int, _ c: Int, _ labels: [Int]?,
                                _ normalizer: Int) -> ([Scalar], Scalar) {
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
        return (p, Scalar(total / Double(normalizer)))
    }

    /// Seeds of the exact traces, [C - 1, N, C]: per example i, vectors b_1..b_{C-1} with
    /// sum_j b_j b_j^T = M_i = diag(p_i) - p_i p_i^T (= A_i^T A_i, the Hessian of the per-example
    /// loss in the logits), so sum_j ||J^T b_j||^2 = Tr(J^T M_i J) = sum_c ||J^T a_c||^2 over the C
    /// rows a_c of A_i: the same trace with one reverse pass fewer, since M_i 1 = 0 (rank C - 1).
    /// With k the most probable class and V x = (x_c - x_k)_{c != k}, M_i = V^T M_r V, where M_r
    /// (M_i without row and column k) is positive definite unless some p_c is 0; so b_j = V^T r_j
    /// for the columns r_j of the Cholesky factor of M_r (in Double; a pivot that is not positive
    /// belongs to a class with p_c = 0 and gives a zero seed).
    func exactTraceSeeds() -> (seeds: [Scalar], count: Int) {
        let (n, c) = (batch, classes)
        let s = max(c - 1, 0)
        var seeds = [Scalar](repeating: 0, count: s * n * c)
        var l = [Double](repeating: 0, count: s * s)   // lower Cholesky factor, row-major
        for i in 0..<n {
            let p = (0..<c).map { Double(probabilities[i * c + $0]) }
            if p.contains(where: { !$0.isFinite }) {   // NaN logits: NaN traces, not silently zero
                for j in 0..<s { for a in 0..<c { seeds[(j * n + i) * c + a] = .nan } }
                continue
            }
            let k = p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) } ?? 0   // first maximum
            let rest = (0..<c).filter { $0 != k }
            for a in 0..<s {
                for b in 0...a {
                    var v = (a == b ? p[rest[a]] : 0) - p[rest[a]] * p[rest[b]]
                    for m in 0..<b { v -= l[a * s + m] * l[b * s + m] }
                    if a == b {
                        l[a * s + a] = v > 0 ? v.squareRoot() : 0
                    } else {
                        l[a * s + b] = l[b * s + b] > 0 ? v / l[b * s + b] : 0
                    }
                }
            }
            for j in 0..<s {
                var sum = 0.0
                for a in j..<s {
                    seeds[(j * n + i) * c + rest[a]] = Scalar(l[a * s + j])
                    sum += l[a * s + j]
                }
                seeds[(j * n + i) * c + k] = Scalar(-sum)
            }
        }
        return (seeds, s)
    }

    /// Seeds of the sampled Gauss-Newton estimator, [S, N, C]: for the sign vector u of sample s
    /// and example i (C entries, `signs(s, i)`), A_i^T u = sqrt(p_i) (.) u - p_i <sqrt(p_i), u>
    /// with exact mode's factor A_i = diag(sqrt p_i)(I - 1 p_i^T) of M_i = A_i^T A_i, so that
    /// E_u ||J^T A_i^T u||^2 = Tr(J^T M_i J) for Rademacher u. O(C) per seed, in Double.
    func gaussNewtonSeeds(samples: Int, signs: (_ sample: Int, _ example: Int) -> [Scalar]) -> [Scalar] {
        let (n, c) = (batch, classes)
        var seeds = [Scalar](repeating: 0, count: samples * n * c)
        for s in 0..<samples {
            for i in 0..<n {
                let u = signs(s, i)
                let p = (0..<c).map { Double(probabilities[i * c + $0]) }
                var dot = 0.0
                for j in 0..<c { dot += p[j].squareRoot() * Double(u[j]) }
                for j in 0..<c { seeds[(s * n + i) * c + j] = Scalar(p[j].squareRoot() * Double(u[j]) - p[j] * dot) }
            }
        }
        return seeds
    }

    /// dL/dz = (p - onehot(y)) / normalizer.
    func gradient(labels: [Int]) -> Stacked<Scalar> {
        let g = Stacked<Scalar>(shape: [batch, classes], zeroed: false)
        let inv = 1 / Scalar(normalizer)
        for i in 0..<batch {
            for j in 0..<classes { g.pointer[i * classes + j] = probabilities[i * classes + j] * inv }
            g.pointer[i * classes + labels[i]] -= inv
        }
        return g
    }

    /// (d2L/dz2) t = p (.) (t - <p, t>) / normalizer for each stacked tangent block.
    func hessianTimes(_ t: Stacked<Scalar>) -> Stacked<Scalar> {
        let out = Stacked<Scalar>(shape: t.shape, blocks: t.blocks, zeroed: false)
        let inv = 1 / Scalar(normalizer)
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
