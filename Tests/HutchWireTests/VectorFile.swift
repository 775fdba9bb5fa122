import Foundation

/// Protocols/vectors/*.hex: '#' lines are comments, every other line is one frame in lowercase
/// hex, and a line holding only "." is an empty frame.
enum VectorFile {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocols/vectors")

    static func render(_ frames: [[UInt8]], fields: [String], comment: String) -> String {
        var lines = comment.split(separator: "\n").map { "# " + $0 }
        for (index, frame) in frames.enumerated() {
            lines.append("# frame \(index): \(index < fields.count ? fields[index] : "?")")
            lines.append(frame.isEmpty ? "." : frame.map { String(format: "%02x", $0) }.joined())
        }
        return lines.joined(separator: "\n") + "\n"
    }

    struct ParseError: Error, CustomStringConvertible { let description: String }

    static func parse(_ text: String, name: String) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line == "." { frames.append([]); continue }
            let digits = Array(line.utf8)
            guard digits.count % 2 == 0 else { throw ParseError(description: "\(name):\(number + 1): odd number of hex digits") }
            var frame: [UInt8] = []
            var i = 0
            while i < digits.count {
                guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else {
                    throw ParseError(description: "\(name):\(number + 1): not hex")
                }
                frame.append(byte)
                i += 2
            }
            frames.append(frame)
        }
        return frames
    }
}
