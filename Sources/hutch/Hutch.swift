import Foundation
import HutchJobs

/// Dispatches `argv` to a command and turns every failure into a one-line message and an exit code.
func runHutch(_ argv: [String], commands: [any Command.Type]) -> Int32 {
    guard let first = argv.first, first != "--help", first != "-h", first != "help" else {
        print(topLevelHelp(commands))
        return argv.isEmpty ? ExitCode.usage.rawValue : ExitCode.ok.rawValue
    }
    if first == "--version" { print("hutch \(hutchVersion)"); return 0 }
    guard let command = commands.first(where: { $0.name == first }) else {
        printError("unknown command '\(first)'; run 'hutch --help' for the list")
        return ExitCode.usage.rawValue
    }
    let rest = Array(argv.dropFirst())
    if rest.contains("--help") || rest.contains("-h") {
        print(command.help)
        return ExitCode.ok.rawValue
    }
    do {
        let arguments = try Arguments(rest, flags: command.flags, positional: command.positional)
        try command.run(arguments)
        return ExitCode.ok.rawValue
    } catch {
        let failure = describe(error)
        printError(failure.message)
        return failure.code.rawValue
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("hutch: error: \(message)\n".utf8))
}

private func topLevelHelp(_ commands: [any Command.Type]) -> String {
    let width = commands.map { $0.name.count }.max() ?? 0
    var text = """
    hutch \(hutchVersion) — Hessian-aware mixed-precision quantization

    usage: hutch <command> [flags]     (hutch <command> --help for its flags)

    commands:

    """
    for command in commands {
        text += "  " + command.name + String(repeating: " ", count: width - command.name.count + 2) + command.summary + "\n"
    }
    text += "\nexit codes: 0 ok, 1 internal error, 2 usage, 3 file I/O, 4 invalid model, 5 invalid data,\n"
    text += "            6 invalid sensitivity/plan file, 7 infeasible budget, 8 cluster job failed, 9 CURVE key file,\n"
    text += "            10 interrupted (a coordinator: rerun to resume; finetune: best model so far written),\n"
    text += "            11 state directory of another job, 12 --memory too small (see README)"
    return text
}
