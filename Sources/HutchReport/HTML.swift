import Foundation

/// Escapes text for HTML element content and quoted attribute values: every string that comes
/// from an input file goes through here.
func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}

/// A number for people: 3 significant digits, exponent form when very large or small.
func number(_ value: Double, digits: Int = 3) -> String {
    guard value.isFinite else { return "–" }
    if value == 0 { return "0" }
    let magnitude = abs(value)
    if magnitude >= 1e6 || magnitude < 1e-3 { return String(format: "%.\(max(0, digits - 1))e", value) }
    return String(format: "%.\(digits)g", value)
}

/// An integer with thousands separators: 80,819.
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
        out.append(c)
    }
    return (value < 0 ? "-" : "") + out
}

/// Seconds as 45 ms, 12.3 s, 4:05 or 1:02:03.
func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "–" }
    if seconds < 1 { return String(format: "%.0f ms", seconds * 1000) }
    if seconds < 60 { return String(format: "%.1f s", seconds) }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}

/// A coordinate in SVG.
func px(_ value: Double) -> String { String(format: "%.1f", value) }

/// The fill of a bit width: warm for narrow widths, cool for wide ones (same color everywhere).
func bitsColor(_ bits: Int) -> String {
    let palette = ["#4a1486", "#9e0142", "#d62728", "#ff7f0e", "#e6b800", "#2ca02c", "#17becf", "#1f77b4"]
    // 1…8 one color each; wider widths share the widest color's darker shade
    if bits >= 1 && bits <= 8 { return palette[bits - 1] }
    return bits > 8 ? "#08306b" : "#999999"
}
