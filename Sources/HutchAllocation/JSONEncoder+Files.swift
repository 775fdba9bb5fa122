import Foundation

extension JSONEncoder {
    /// The encoder of Hutch's JSON files (sensitivity.json, plan.json, run.json, the fine-tuning
    /// log): snake_case keys, sorted and pretty-printed, slashes as they are: equal values, equal bytes.
    public static func hutchFile() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
