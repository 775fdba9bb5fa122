import Foundation

/// Every command, in the order `hutch --help` lists them.
let commands: [any Command.Type] = [
    VersionCommand.self,
    InspectCommand.self,
    TraceCommand.self,
    PlanCommand.self,
    QuantizeCommand.self,
    FinetuneCommand.self,
    RunCommand.self,
    CoordinatorCommand.self,
    WorkerCommand.self,
    StatusCommand.self,
    ReportCommand.self,
    KeygenCommand.self,
]

exit(runHutch(Array(CommandLine.arguments.dropFirst()), commands: commands))
