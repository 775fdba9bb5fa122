import HutchJobs

struct VersionCommand: Command {
    static let name = "version"
    static let summary = "print the version"
    static let usage = ""
    static let flags: [Arguments.Flag] = []
    static func run(_ arguments: Arguments) throws {
        print("hutch \(hutchVersion)")
    }
}
