/// What `hutch finetune --log` writes (Protocols/README.md, "Fine-tuning log"). JSON keys are
/// the snake_case forms of these property names.
public struct FineTuneLog: Codable, Sendable, Equatable {
    public static let formatName = "hutch.finetune"
    public var format = FineTuneLog.formatName
    public var version = 1
    /// "hessian" or "all".
    public var order: String
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var momentum: Double
    public var seed: UInt64
    public var examples: Int
    /// The whole plan quantized before any fine-tuning (post-training quantization).
    public var before: Evaluation
    public var stages: [Stage]
    /// The model written: the evaluation with the lowest loss (the first of equals), `before` included.
    public var written: Evaluation
    /// True when SIGINT/SIGTERM stopped the run; `written` is then the best model up to that point.
    public var interrupted: Bool
    /// True when a step's loss, gradient or updated weights were not finite (the learning rate too large); the run
    /// stopped there and `written` is the best model before it.
    public var diverged: Bool

    /// Mean cross-entropy and accuracy of the whole plan's quantized model (as exported) on the training data.
    public struct Evaluation: Codable, Sendable, Equatable {
        public var loss: Double
        public var accuracy: Double
        /// Stage and epoch (1-based) after which it was measured; 0 and 0 before fine-tuning.
        public var stage: Int
        public var epoch: Int
        public init(loss: Double, accuracy: Double, stage: Int, epoch: Int) {
            (self.loss, self.accuracy, self.stage, self.epoch) = (loss, accuracy, stage, epoch)
        }
    }

    public struct Stage: Codable, Sendable, Equatable {
        /// Node names of the layers this stage quantizes, and of all layers quantized in it.
        public var newLayers: [String]
        public var quantizedLayers: [String]
        /// Per epoch: the mean training loss of its steps (fake-quantized forward of this stage).
        public var trainLoss: [Double]
        /// After each epoch, the whole plan's quantized model.
        public var evaluations: [Evaluation]
    }
}
