import Foundation

/// The CURVE public keys allowed to connect to a coordinator, with a name each (the ZAP user id).
/// File format: one key per line as 40 Z85 characters, optionally followed by whitespace and a
/// name (the rest of the line); blank lines and lines starting with `#` are ignored. A line of a
/// PREFIX.pub file is a valid line.
public struct AuthorizedKeys: Hashable, Sendable {
    /// Name by key; the name is the key's Z85 text when the line gave none.
    public let names: [CurveKey: String]

    public init(_ names: [CurveKey: String]) { self.names = names }

    /// The name of an authorized key, nil for any other.
    public func name(of key: CurveKey) -> String? { names[key] }

    /// Parses the file's text; every bad line is reported as SOURCE:LINE: what is wrong.
    public static func parse(_ text: String, source: String) throws(SecurityError) -> AuthorizedKeys {
        var names: [CurveKey: String] = [:]
        var lineOf: [CurveKey: Int] = [:]
        var problems: [String] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let keyText = String(line.prefix { !$0.isWhitespace })
            let name = line.dropFirst(keyText.count).trimmingCharacters(in: .whitespaces)
            let key: CurveKey
            do {
                key = try CurveKey(z85: keyText)
            } catch {
                problems.append("\(source):\(number): '\(keyText.prefix(48))' is not a CURVE public key (\(error.message))")
                continue
            }
            if name.utf8.count > 64 || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                problems.append("\(source):\(number): the name must be at most 64 bytes without control characters")
                continue
            }
            if let first = lineOf[key] {
                problems.append("\(source):\(number): the same key as line \(first)")
                continue
            }
            lineOf[key] = number
            names[key] = name.isEmpty ? key.z85 : name
        }
        if !problems.isEmpty {
            throw SecurityError(.authorizedKeys, problems.joined(separator: "; "))
        }
        guard !names.isEmpty else {
            throw SecurityError(.authorizedKeys, "\(source): no keys; add one worker public key (a line of its .pub file) per line")
        }
        return AuthorizedKeys(names)
    }

    /// Reads and parses an authorized-keys file.
    public static func read(_ path: String) throws(SecurityError) -> AuthorizedKeys {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecurityError(.keyFile, "cannot read the authorized-keys file '\(path)' (missing or unreadable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SecurityError(.authorizedKeys, "\(path): not UTF-8 text; expected one Z85 public key per line")
        }
        return try parse(text, source: path)
    }
}
