import Foundation

/// Measured latency per (layer, weight bits) or per (layer, weight bits, activation bits) in
/// milliseconds, from CSV (`layer,bits,milliseconds` or `layer,bits,activation_bits,milliseconds`,
/// optional header line, `#` comments) or JSON (`[{"layer": …, "bits": …, "milliseconds": …}]`,
/// each row optionally with `"activation_bits"`). `layer` is a node name (or weight name) from
/// sensitivity.json. A row without activation bits holds for every activation width.
public struct LatencyTable: Sendable, Equatable {
    public var entries: [String: [Int: Double]]
    /// Rows keyed on activation bits too: layer → weight bits → activation bits → ms.
    public var activationEntries: [String: [Int: [Int: Double]]]

    public init(entries: [String: [Int: Double]], activationEntries: [String: [Int: [Int: Double]]] = [:]) {
        self.entries = entries
        self.activationEntries = activationEntries
    }

    public func milliseconds(layer: String, bits: Int) -> Double? { entries[layer]?[bits] }

    /// The (weight, activation) entry, else the weight-only one.
    public func milliseconds(layer: String, bits: Int, activationBits: Int) -> Double? {
        activationEntries[layer]?[bits]?[activationBits] ?? entries[layer]?[bits]
    }

    /// Parses JSON when the text starts with `[`, CSV otherwise. `source` names the file in errors.
    public static func parse(_ data: Data, source: String) throws -> LatencyTable {
        guard let text = String(data: data, encoding: .utf8) else {
            throw AllocationError.invalidLatencyTable("\(source): not UTF-8 text")
        }
        var table = LatencyTable(entries: [:])
        func add(_ layer: String, _ bits: Int, _ ms: Double, _ at: String, activationBits: Int? = nil) throws {
            guard !layer.isEmpty else { throw AllocationError.invalidLatencyTable("\(source) \(at): empty layer name") }
            for b in [bits] + (activationBits.map { [$0] } ?? []) where !(1 ... 16).contains(b) {
                throw AllocationError.invalidLatencyTable("\(source) \(at): bits \(b) outside 1...16")
            }
            guard ms.isFinite, ms >= 0 else {
                throw AllocationError.invalidLatencyTable("\(source) \(at): milliseconds must be finite and ≥ 0, got \(ms)")
            }
            if let a = activationBits {
                if table.activationEntries[layer]?[bits]?[a] != nil {
                    throw AllocationError.invalidLatencyTable("\(source) \(at): duplicate entry for layer '\(layer)' at \(bits) bits, activations \(a) bits")
                }
                table.activationEntries[layer, default: [:]][bits, default: [:]][a] = ms
                return
            }
            if table.entries[layer]?[bits] != nil {
                throw AllocationError.invalidLatencyTable("\(source) \(at): duplicate entry for layer '\(layer)' at \(bits) bits")
            }
            table.entries[layer, default: [:]][bits] = ms
        }
        if text.drop(while: { $0.isWhitespace }).first == "[" {
            struct Row: Decodable { var layer: String; var bits: Int; var activationBits: Int?; var milliseconds: Double
                enum CodingKeys: String, CodingKey { case layer, bits, activationBits = "activation_bits", milliseconds }
            }
            let rows: [Row]
            do {
                rows = try JSONDecoder().decode([Row].self, from: data)
            } catch let error as DecodingError {
                throw AllocationError.invalidLatencyTable("\(source): \(describeDecoding(error)); expected [{\"layer\", \"bits\", \"milliseconds\"}, …]")
            }
            for (i, row) in rows.enumerated() { try add(row.layer, row.bits, row.milliseconds, "entry \(i)", activationBits: row.activationBits) }
        } else {
            for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
                if line.isEmpty || line.hasPrefix("#") { continue }
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                let at = "line \(number + 1)"
                guard fields.count == 3 || fields.count == 4 else {
                    throw AllocationError.invalidLatencyTable("\(source) \(at): expected 3 fields layer,bits,milliseconds (or 4: layer,bits,activation_bits,milliseconds), got \(fields.count)")
                }
                let isEmpty = table.entries.isEmpty && table.activationEntries.isEmpty
                if number == 0 || isEmpty, fields[1].lowercased() == "bits" { continue }   // header
                let activationBits = fields.count == 4 ? Int(fields[2]) : nil
                guard let bits = Int(fields[1]), let ms = Double(fields[fields.count - 1]), fields.count == 3 || activationBits != nil else {
                    throw AllocationError.invalidLatencyTable("\(source) \(at): bits must be an integer and milliseconds a number")
                }
                try add(fields[0], bits, ms, at, activationBits: activationBits)
            }
        }
        guard !table.entries.isEmpty || !table.activationEntries.isEmpty else { throw AllocationError.invalidLatencyTable("\(source): no entries") }
        return table
    }
}
