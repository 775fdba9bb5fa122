import Foundation

/// The embedded example: Examples/digits_resnet.onnx and Examples/digits.npz.
public struct ExampleFiles: Sendable {
    public var model: String
    public var data: String

    /// Examples/ in the working directory, or next to the repository the executable was built in
    /// (.build/<config>/hutch → ../../Examples), or beside an installed binary.
    public static func directory() throws -> ExampleFiles {
        let fm = FileManager.default
        var candidates = [URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("Examples")]
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("Examples"))
            candidates.append(directory.appendingPathComponent("share/hutch/Examples"))
            directory = directory.deletingLastPathComponent()
        }
        for candidate in candidates
        where fm.fileExists(atPath: candidate.appendingPathComponent("digits_resnet.onnx").path)
            && fm.fileExists(atPath: candidate.appendingPathComponent("digits.npz").path) {
            return ExampleFiles(model: candidate.appendingPathComponent("digits_resnet.onnx").path,
                                data: candidate.appendingPathComponent("digits.npz").path)
        }
        throw CommandFailure(.io, "the embedded example (Examples/digits_resnet.onnx and Examples/digits.npz) was not found in the working directory or next to the hutch executable; run from the repository root or give --model M.onnx --data D.npz")
    }
}
