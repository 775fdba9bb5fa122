/// sensitivity.json (Protocols/sensitivity.schema.json): per-layer Hessian sensitivities and,
/// optionally, quantization errors. Written by `hutch trace`, read by `hutch plan`.
/// JSON keys are the snake_case forms of these property names.
public struct SensitivityReport: Codable, Sendable, Equatable {
    public static let formatName = "hutch.sensitivity"
    public static let currentVersion = 1

    public var format: String
    public var version: Int
    public var job: Job
    /// How `quantization_error` was computed; nil when no layer has quantization errors.
    public var quantization: Quantization?
    public var layers: [Layer]

    public struct Job: Codable, Sendable, Equatable {
        public var modelDigest: String
        public var dataDigest: String?
        public var samples: Int
        public var batchSize: Int?
        public var seed: UInt64?
        /// "exact", "hutchinson" or "ggn" (per-layer `method` may differ when the job mixes them).
        public var method: String
        /// "joint" or "layer" for Hutchinson, nil for exact and ggn.
        public var mode: String?
        public var toolVersion: String
        /// ggn only: "hessian" (piecewise-linear network: the Gauss-Newton trace is the Hessian's)
        /// or "gauss_newton" (it is not); absent for the other methods.
        public var curvature: String?
        /// `hutch trace --measured`: the float model's mean loss on the data the increases are measured against.
        public var measuredBaseLoss: Double?
        public init(modelDigest: String, dataDigest: String? = nil, samples: Int, batchSize: Int? = nil,
                    seed: UInt64? = nil, method: String, mode: String? = nil, toolVersion: String, curvature: String? = nil) {
            self.curvature = curvature
            self.modelDigest = modelDigest
            self.dataDigest = dataDigest
            self.samples = samples
            self.batchSize = batchSize
            self.seed = seed
            self.method = method
            self.mode = mode
            self.toolVersion = toolVersion
        }
    }

    public struct Quantization: Codable, Sendable, Equatable {
        /// e.g. "symmetric_per_channel_minmax".
        public var scheme: String
        /// The bit widths every layer's `quantization_error` covers.
        public var bits: [Int]
        public init(scheme: String, bits: [Int]) {
            self.scheme = scheme
            self.bits = bits
        }
    }

    public struct Layer: Codable, Sendable, Equatable {
        /// Position in the canonical layer order (node order of the graph), 0-based.
        public var index: Int
        public var node: String
        public var weight: String
        public var op: String
        public var shape: [Int]
        public var parameters: Int
        /// Multiply-accumulates per example; nil when the output shape is not static.
        public var macs: Int?
        /// Tr(H_ll), the trace of the loss Hessian block of this layer's weight, at least 0: the
        /// objective needs a curvature that is not negative (Protocols/README.md).
        public var trace: Double
        public var tracePerParameter: Double
        /// Standard error of `trace` (Hutchinson); nil or 0 for exact traces.
        public var standardError: Double?
        /// Hutchinson probes used; nil for exact traces.
        public var probes: Int?
        public var exact: Bool
        public var method: String
        /// Largest eigenvalue of H_ll (power iteration), when computed.
        public var topEigenvalue: Double?
        /// ‖Q_b(W) − W‖² (sum of squares over the weight tensor), keyed by the bit width as a string.
        public var quantizationError: [String: Double]?
        /// The measured trace when it was below 0 (then `trace` is 0): a non-piecewise-linear
        /// network's Hessian block can be indefinite, or a Hutchinson estimate noise around a
        /// small value; `standardError` says which is likelier.
        public var measuredTrace: Double?
        /// HAWQ-V2's sensitivity of the layer's input activation, with `hutch trace --activations`.
        public var activation: Activation?
        /// Layers sharing a tie group get equal bits under `--tie auto` (e.g. a residual shortcut
        /// conv and the main-path conv whose outputs one Add node sums; the writer names the group
        /// after that Add node).
        public var tieGroup: String?
        /// `hutch trace --measured`: the mean loss increase on the data with this layer alone
        /// quantized, keyed by the bit width as a string (Protocols/README.md, "Measured loss increase").
        public var measuredLossIncrease: [String: Double]?

        public init(index: Int, node: String, weight: String, op: String, shape: [Int], parameters: Int,
                    macs: Int?, trace: Double, tracePerParameter: Double, standardError: Double?, probes: Int?,
                    exact: Bool, method: String, topEigenvalue: Double? = nil,
                    quantizationError: [String: Double]? = nil, tieGroup: String? = nil, measuredTrace: Double? = nil) {
            self.index = index
            self.node = node
            self.weight = weight
            self.op = op
            self.shape = shape
            self.parameters = parameters
            self.macs = macs
            self.trace = trace
            self.tracePerParameter = tracePerParameter
            self.standardError = standardError
            self.probes = probes
            self.exact = exact
            self.method = method
            self.topEigenvalue = topEigenvalue
            self.quantizationError = quantizationError
            self.tieGroup = tieGroup
            self.measuredTrace = measuredTrace
        }

        /// The quantization error at `bits`, if present.
        public func quantizationError(bits: Int) -> Double? { quantizationError?[String(bits)] }
    }

    /// A layer's input activation: Tr(d^2 L / d a^2) averaged over examples (Hutchinson on the
    /// activations), its standard error and probes, its entries per example, and the mean squared
    /// quantization error per entry by width (min-max range of the data).
    public struct Activation: Codable, Sendable, Equatable {
        public var value: String
        public var trace: Double
        public var standardError: Double
        public var probes: Int
        public var elements: Int
        public var quantizationError: [String: Double]
        public init(value: String, trace: Double, standardError: Double, probes: Int, elements: Int, quantizationError: [String: Double]) {
            (self.value, self.trace, self.standardError, self.probes) = (value, trace, standardError, probes)
            (self.elements, self.quantizationError) = (elements, quantizationError)
        }
    }

    public init(job: Job, quantization: Quantization?, layers: [Layer]) {
        format = Self.formatName
        version = Self.currentVersion
        self.job = job
        self.quantization = quantization
        self.layers = layers
    }
}
