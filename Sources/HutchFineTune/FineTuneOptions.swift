import HutchQuantize

/// The settings of one quantization-aware fine-tuning run (`hutch finetune`).
public struct FineTuneOptions: Sendable, Equatable {
    /// Passes over the training data per stage.
    public var epochs = 4
    public var batchSize = 32
    /// Peak learning rate of the cosine schedule (SGD with momentum).
    public var learningRate = 0.01
    public var momentum = 0.9
    /// Shuffles the examples; the run is deterministic for a seed and thread count.
    public var seed: UInt64 = 0
    /// How weight codes and ranges are chosen: the same settings as `hutch quantize`.
    public var scheme = QuantizationScheme.symmetric
    public var range = RangeMethod.minMax

    public init() {}
}
