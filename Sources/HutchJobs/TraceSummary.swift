import Foundation
import HutchSensitivity

/// What `hutch trace` and the cluster jobs print once sensitivity.json is written: a row per layer.
public func traceSummary(_ result: SensitivityResult, outPath: String) -> String {
    var lines = ["layer                                  trace          ± s.e.      probes  trace/param"]
    for s in result.layers {
        let name = s.layer.nodeName.count > 36 ? "…" + s.layer.nodeName.suffix(35) : s.layer.nodeName
        let se = s.standardError.map { String(format: "%10.3e", $0) } ?? "     exact"
        let probes = s.probes.map { String(format: "%6d", $0) } ?? "     -"
        lines.append(name.padding(toLength: 36, withPad: " ", startingAt: 0)
                     + String(format: "  %12.5e  %@  %@  %11.4e", s.trace, se, probes, s.trace / Double(s.layer.parameterCount)))
    }
    lines.append("\(result.layers.count) layers, method \(result.job.method.rawValue), \(result.job.samples) examples → \(outPath)")
    return lines.joined(separator: "\n")
}
