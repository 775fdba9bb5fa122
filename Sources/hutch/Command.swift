/// One `hutch <command>`: its name, help text, flags, and what it does.
/// `run` returns normally on success and throws `CommandFailure` (or a module error that
/// `ErrorReporting` maps) otherwise; it prints results on stdout and progress on stderr.
protocol Command {
    static var name: String { get }
    static var summary: String { get }
    /// Usage line(s) after `hutch NAME`, e.g. "--model M.onnx [--json]".
    static var usage: String { get }
    static var flags: [Arguments.Flag] { get }
    /// The flag whose value may also be given as one bare word, if any.
    static var positional: String? { get }
    static func run(_ arguments: Arguments) throws
}

extension Command {
    static var positional: String? { nil }

    static var help: String {
        var text = "hutch \(name) — \(summary)\n\nusage: hutch \(name) \(usage)\n\nflags:\n"
        let all = flags + [.toggle("help", "show this help")]
        let width = all.map { flagLabel($0).count }.max() ?? 0
        for flag in all {
            let label = flagLabel(flag)
            text += "  " + label + String(repeating: " ", count: width - label.count + 2) + flag.help + "\n"
        }
        return text
    }

    private static func flagLabel(_ flag: Arguments.Flag) -> String {
        flag.takesValue ? "--\(flag.name) \(flag.valueName)" : "--\(flag.name)"
    }
}
