import HutchModel
import HutchTensor

/// Why the executor refused a graph or its inputs. The description is one line that names the
/// node (or argument) and what is wrong.
public struct ExecutionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func node(_ node: Node, _ message: String) -> ExecutionError {
        ExecutionError("node '\(node.name)' (\(node.op.onnxType)): \(message)")
    }
}
