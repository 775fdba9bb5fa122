/// Accuracy, loss and weight size of the float model and of quantized versions of it, measured
/// on one data set (`hutch report --data`).
public struct Evaluation: Sendable, Equatable {
    /// Where the numbers were measured, e.g. "Examples/digits.npz".
    public var data: String
    public var examples: Int
    public var rows: [Row]

    public struct Row: Sendable, Equatable {
        /// "float32", "uniform 8-bit", "plan" …
        public var name: String
        /// Weight bits per layer; nil for the float model.
        public var bits: [Int]?
        /// Fraction of examples whose top logit is the label, in [0, 1].
        public var accuracy: Double
        /// Mean softmax cross-entropy.
        public var loss: Double
        /// Bytes of the quantizable layers' weights: float32 bytes for the float model, the
        /// packed weight file (codes, scales, zero points) otherwise.
        public var weightBytes: Int
        public init(name: String, bits: [Int]?, accuracy: Double, loss: Double, weightBytes: Int) {
            self.name = name
            self.bits = bits
            self.accuracy = accuracy
            self.loss = loss
            self.weightBytes = weightBytes
        }
    }

    public init(data: String, examples: Int, rows: [Row]) {
        self.data = data
        self.examples = examples
        self.rows = rows
    }
}
