import Foundation

/// What `hutch quantize --integer-check REPORT.json` writes: the integer network against the QDQ
/// model (Hutch's fake-quantized forward) on the same examples. Field meanings:
/// Protocols/README.md, "Integer check".
public struct IntegerCheckReport: Sendable, Codable, Equatable {
    public static let formatName = "hutch-integer-check/1"

    /// One code that differs at an example's first differing quantization point (earlier points
    /// agree, so both networks read the same codes there); later points are consequences.
    public struct Difference: Sendable, Codable, Equatable {
        public var example: Int
        public var point: String
        public var element: Int
        public var qdqCode: Int32
        public var integerCode: Int32
        /// x / S + z before rounding: the QDQ model's (float) and the integer network's (exact).
        public var qdqUnrounded: Double
        public var integerUnrounded: Double
        /// How far apart the two may be from the integer roundings (bias, Clip, rescaling).
        public var boundLsb: Double
        /// A rounding boundary (k + 1/2) lies between the two, which are within bound + allowance.
        public var explained: Bool
    }

    /// An example whose predicted class differs, and why.
    public struct Disagreement: Sendable, Codable, Equatable {
        public var example: Int
        public var integerClass: Int
        public var qdqClass: Int
        /// "rounding boundary at POINT", "tie in the logit codes", or "unexplained".
        public var cause: String
    }

    public struct Point: Sendable, Codable, Equatable {
        public var name: String
        public var bits: Int
        public var scale: Float
        public var zeroPoint: Int32
        public var codes: Int
        public var differing: Int
    }

    public var format = formatName
    public var examples: Int
    public var argmaxAgreement: Double
    public var integerAccuracy: Double
    public var qdqAccuracy: Double
    /// max |integer logit code − QDQ logit / S_out + z rounded|, in output LSBs.
    public var maxLogitDifferenceLsb: Int
    public var examplesWithDifferences: Int
    /// Codes that differ at their example's first differing point (later ones are consequences).
    public var firstDifferences: Int
    public var unexplained: Int
    public var allowanceLsb: Double
    /// max |integer − QDQ| before rounding over every code whose inputs agreed, in LSBs.
    public var maxUnroundedGapLsb: Double
    /// max of that gap minus its bound: at most `allowance_lsb` when the bound is right.
    public var maxExcessOverBoundLsb: Double
    public var points: [Point]
    /// Every unexplained first difference and the first 100 explained ones.
    public var differences: [Difference]
    public var disagreements: [Disagreement]

    /// One line for the log.
    public var summary: String {
        let percent = { (x: Double) in String(format: "%.2f %%", x * 100) }
        return "integer check on \(examples) examples: argmax agreement with the QDQ model \(percent(argmaxAgreement)), "
            + "max logit difference \(maxLogitDifferenceLsb) LSB, accuracy integer \(percent(integerAccuracy)) / QDQ \(percent(qdqAccuracy)), "
            + "\(firstDifferences) codes at rounding boundaries in \(examplesWithDifferences) examples, \(unexplained) unexplained"
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
