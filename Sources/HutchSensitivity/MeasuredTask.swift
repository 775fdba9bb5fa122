/// One unit of the measured objective (Protocols/README.md, "Measured loss increase"): the loss
/// sums of the job's batches `batches` with the weight of `layer` alone quantized to `bits`, or
/// of the float model (`layer` nil, `bits` 0: the baseline the increases are measured against).
/// Pure: its result depends only on the job, the model, the data and these three fields.
public struct MeasuredTask: Sendable, Hashable, Codable, CustomStringConvertible {
    public var layer: Int?
    public var bits: Int
    public var batches: Range<Int>

    public init(layer: Int?, bits: Int, batches: Range<Int>) {
        self.layer = layer
        self.bits = layer == nil ? 0 : bits
        self.batches = batches
    }

    public var description: String {
        let what = layer.map { "layer \($0) at \(bits) bits" } ?? "float model"
        return "measured(\(what), batches \(batches.lowerBound)..<\(batches.upperBound))"
    }
}
