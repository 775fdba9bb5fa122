import Foundation

/// Measured latency per (layer, weight bits) in milliseconds, from CSV (`layer,bits,milliseconds`,
/// optional header line, `#` comments) or JSON (`[{"layer": …, "bits": …, "milliseconds": …}]`).
/// `layer` is a node name (or weight name) from sensitivity.json.
public struct LatencyTable: Sendable, Equatable {
    public var entries: [String: [Int: Double]]

    public init(entries: [String: [Int: Double]]) { self.entries = entries }

    public func milliseconds(layer: String, bits: Int) -> Double? { entries[layer]?[bits] }

    /// Parses JSON when the text starts with `[`, CSV otherwise. `source` names the file in errors.
    public static func parse(_ data: Data, source: String) throws -> LatencyTable {
        guard let text = String(data: data, encoding: .utf8) else {
            throw AllocationError.invalidLatencyTable("\(source): not UTF-8 text")
        }
        var table = LatencyTable(entries: [:])
        func add(_ layer: String, _ bits: Int, _ ms: Double, _ at: String) throws {
            guard !layer.isEmpty else { throw AllocationError.invalidLatencyTable("\(source) \(at): empty layer name") }
            guard (1 ... 16).contains(bits) else {
                throw AllocationError.invalidLatencyTable("\(source) \(at): bits \(bits) outside 1...16")
            }
            guard ms.isFinite, ms >= 0 else {
                throw AllocationError.invalidLatencyTable("\(source) \(at): milliseconds must be finite and ≥ 0, got \(ms)")
            }
            if table.entries[layer]?[bits] != nil {
                throw AllocationError.invalidLatencyTable("\(source) \(at): duplicate entry for layer '\(layer)' at \(bits) bits")
            }
            table.entries[layer, default: [:]][bits] = ms
        }
        if text.drop(while: { $0.isWhitespace }).first == "[" {
            struct Row: Decodable { var layer: String; var bits: Int; var milliseconds: Double }
            let rows: [Row]
            do {
                rows = try JSONDecoder().decode([Row].self, from: data)
            } catch let error as DecodingError {
                throw AllocationError.invalidLatencyTable("\(source): \(describeDecoding(error)); expected [{\"layer\", \"bits\", \"milliseconds\"}, …]")
            }
            for (i, row) in rows.enumerated() { try add(row.layer, row.bits, row.milliseconds, "entry \(i)") }
        } else {
            for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
                if line.isEmpty || line.hasPrefix("#") { continue }
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                let at = "line \(number + 1)"
                guard fields.count == 3 else {
                    throw AllocationError.invalidLatencyTable("\(source) \(at): expected 3 fields layer,bits,milliseconds, got \(fields.count)")
                }
                if number == 0 || table.entries.isEmpty, fields[1].lowercased() == "bits" { continue }   // header
                guard let bits = Int(fields[1]), let ms = Double(fields[2]) else {
                    throw AllocationError.invalidLatencyTable("\(source) \(at): bits must be an integer and milliseconds a number")
                }
                try add(fields[0], bits, ms, at)
            }
        }
        guard !table.entries.isEmpty else { throw AllocationError.invalidLatencyTable("\(source): no entries") }
        return table
    }
}
