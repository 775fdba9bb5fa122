/// What one sensitivity measurement is, independent of how it is cut into tasks: the method, the
/// probes' seed and mode, the examples used and how they are batched, and the layer groups.
/// Two runs of the same job give the same bits however their tasks are cut and ordered.
public struct SensitivityJob: Sendable, Hashable, Codable {
    public var method: TraceMethod
    /// Hutchinson probe mode (ignored by exact and ggn jobs).
    public var mode: ProbeMode
    public var seed: UInt64
    /// Examples used: the first `samples` of the data.
    public var samples: Int
    /// Examples per batch; batch b holds examples b*batchSize ..< min((b+1)*batchSize, samples).
    public var batchSize: Int
    /// Number of quantizable layers of the model (canonical order).
    public var layerCount: Int
    /// Layer indices per group. Hutchinson: each group is one probe's support (joint: one group of
    /// every layer; layer mode: one group per layer by default). Exact: how layers are split
    /// between tasks (any partition gives the same bits).
    public var layerGroups: [[Int]]

    public init(method: TraceMethod, mode: ProbeMode = .joint, seed: UInt64 = 0, samples: Int, batchSize: Int,
                layerCount: Int, layerGroups: [[Int]]? = nil) throws(SensitivityError) {
        self.method = method
        self.mode = mode
        self.seed = seed
        self.samples = samples
        self.batchSize = batchSize
        self.layerCount = layerCount
        if let layerGroups {
            self.layerGroups = layerGroups
        } else if method == .ggn || (method == .hutchinson && mode == .joint) {
            // ggn: one reverse pass serves every layer
            self.layerGroups = [Array(0..<layerCount)]
        } else {
            self.layerGroups = (0..<layerCount).map { [$0] }
        }
        try validate()
    }

    public func validate() throws(SensitivityError) {
        guard samples >= 1 else { throw SensitivityError(.invalidJob, "samples is \(samples); a job needs at least one example") }
        guard batchSize >= 1 else { throw SensitivityError(.invalidJob, "batch size is \(batchSize); it must be at least 1") }
        guard layerCount >= 1 else { throw SensitivityError(.invalidJob, "the model has no quantizable layer (Conv, Gemm or MatMul with an initializer weight)") }
        let all = layerGroups.flatMap { $0 }
        guard !layerGroups.contains(where: \.isEmpty), all.sorted() == Array(0..<layerCount) else {
            throw SensitivityError(.invalidJob, "layer groups \(layerGroups) must split the layers 0..<\(layerCount) into non-empty groups, each layer once")
        }
        if method == .hutchinson && mode == .joint && layerGroups.count != 1 {
            throw SensitivityError(.invalidJob, "joint mode probes every layer at once: it takes one layer group, not \(layerGroups.count)")
        }
    }

    public var batchCount: Int { (samples + batchSize - 1) / batchSize }

    /// Examples in the largest batch: the batch size, or every sample when there are fewer.
    public var largestBatch: Int { min(batchSize, samples) }

    /// Example range of batch b.
    public func examples(ofBatch b: Int) -> Range<Int> {
        (b * batchSize)..<min((b + 1) * batchSize, samples)
    }

    /// The layers a task covers, in its result's order: its groups' layers, group after group.
    public func layers(ofGroups groups: Range<Int>) -> [Int] {
        groups.flatMap { layerGroups[$0] }
    }

    /// The group that holds each layer.
    public var groupOfLayer: [Int] {
        var out = [Int](repeating: 0, count: layerCount)
        for (g, layers) in layerGroups.enumerated() { for l in layers { out[l] = g } }
        return out
    }
}

/// One unit of work: a range of batches, of probes (Hutchinson) and of layer groups. Pure: its
/// result depends only on the job, the model, the data and these ranges.
public struct SensitivityTask: Sendable, Hashable, Codable, CustomStringConvertible {
    public var batches: Range<Int>
    /// Probe indices (ggn: sample indices; empty for exact jobs).
    public var probes: Range<Int>
    public var groups: Range<Int>

    public init(batches: Range<Int>, probes: Range<Int>, groups: Range<Int>) {
        self.batches = batches
        self.probes = probes
        self.groups = groups
    }

    public var description: String {
        "task(batches \(batches.lowerBound)..<\(batches.upperBound), probes \(probes.lowerBound)..<\(probes.upperBound), groups \(groups.lowerBound)..<\(groups.upperBound))"
    }

    public func validate(in job: SensitivityJob) throws(SensitivityError) {
        guard !batches.isEmpty, batches.upperBound <= job.batchCount else {
            throw SensitivityError(.invalidJob, "\(self): batches must be a non-empty range within 0..<\(job.batchCount)")
        }
        guard !groups.isEmpty, groups.upperBound <= job.layerGroups.count else {
            throw SensitivityError(.invalidJob, "\(self): groups must be a non-empty range within 0..<\(job.layerGroups.count)")
        }
        switch job.method {
        case .exact:
            guard probes.isEmpty else { throw SensitivityError(.invalidJob, "\(self): exact tasks take no probes") }
        case .hutchinson, .ggn:
            guard !probes.isEmpty, probes.lowerBound >= 0 else {
                throw SensitivityError(.invalidJob, "\(self): \(job.method.rawValue) tasks need a non-empty range of probes")
            }
        }
    }
}

/// The partial sums of one task.
///
/// Hutchinson: `values[(p * B + b) * L + l]` = v_l^T (H_b v)_l for probe `task.probes[p]`, batch
/// `task.batches[b]` and the task's l-th layer (`job.layers(ofGroups:)`), where H_b is the Hessian of
/// the batch's mean loss; ggn: the same layout with the batch's mean over examples of
/// ||d(u^T A_i f_i)/dW_l||^2 for sample `task.probes[p]`. Exact: `values[b * L + l]` = sum over the batch's examples of
/// sum_c ||d(A_i f_i)_c / dW_l||^2. `exampleCounts[b]` = examples in batch b.
public struct TaskResult: Sendable, Hashable, Codable {
    public var task: SensitivityTask
    public var exampleCounts: [Int]
    public var values: [Double]

    public init(task: SensitivityTask, exampleCounts: [Int], values: [Double]) {
        self.task = task
        self.exampleCounts = exampleCounts
        self.values = values
    }
}

extension SensitivityJob {
    /// Cuts probes `probes` of groups `groups` over all batches into tasks of at most
    /// `batchesPerTask` batches and `probesPerTask` probes, one group each, in canonical order
    /// (group, probe range, batch range). Exact jobs ignore the probe arguments.
    public func tasks(probes: Range<Int> = 0..<0, groups: [Int]? = nil, batchesPerTask: Int = .max,
                      probesPerTask: Int = .max) -> [SensitivityTask] {
        let groupList = groups ?? Array(layerGroups.indices)
        let bStep = max(1, min(batchesPerTask, batchCount))
        var out: [SensitivityTask] = []
        for g in groupList {
            let probeRanges: [Range<Int>]
            if method == .exact {
                probeRanges = [0..<0]
            } else {
                let pStep = max(1, min(probesPerTask, probes.count))
                probeRanges = stride(from: probes.lowerBound, to: probes.upperBound, by: pStep).map {
                    $0..<min($0 + pStep, probes.upperBound)
                }
            }
            for pr in probeRanges {
                for b0 in stride(from: 0, to: batchCount, by: bStep) {
                    out.append(SensitivityTask(batches: b0..<min(b0 + bStep, batchCount), probes: pr, groups: g..<(g + 1)))
                }
            }
        }
        return out
    }
}
