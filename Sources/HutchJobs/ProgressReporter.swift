import Foundation
import HutchSensitivity

/// Progress on stderr: one rewritten line with ETA on a terminal, a plain log line every few
/// seconds (and at the end of each phase) otherwise.
public struct ProgressReporter {
    let terminal = isatty(STDERR_FILENO) == 1
    var phase = ""
    var phaseStart = Date()
    var lastLine = Date.distantPast
    var lineOpen = false

    mutating func update(_ p: AnalysisProgress) {
        let now = Date()
        if p.phase != phase {
            phase = p.phase
            phaseStart = now
        }
        let elapsed = now.timeIntervalSince(phaseStart)
        let finished = p.done >= p.total
        var eta = ""
        if p.done > 0, !finished {
            let seconds = elapsed / Double(p.done) * Double(p.total - p.done)
            eta = ", ETA " + Self.clock(seconds)
        }
        let percent = p.total > 0 ? 100 * p.done / p.total : 100
        let text = "\(p.phase): \(p.done)/\(p.total) (\(percent) %)\(eta); \(p.detail)"
        if terminal {
            guard finished || now.timeIntervalSince(lastLine) >= 0.1 else { return }
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            lineOpen = true
            if finished && p.phase.hasSuffix("done") { FileHandle.standardError.write(Data("\n".utf8)); lineOpen = false }
        } else {
            guard now.timeIntervalSince(lastLine) >= 5 || (finished && (p.phase.hasSuffix("done") || !p.phase.hasPrefix("Hutchinson"))) else { return }
            log(text)
        }
        lastLine = now
    }

    mutating func finish() {
        if lineOpen { FileHandle.standardError.write(Data("\n".utf8)) }
        lineOpen = false
    }

    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
