/// An error that is one line of text (naming the file, layer or flag at fault and what to do)
/// with a kind that callers branch on (the CLI maps kinds to exit codes). Each such error type is
/// this with its own kind, so its file lists only its cases and every throw site its message.
public struct OneLineError<K: Hashable & Sendable>: Error, Hashable, Sendable, CustomStringConvertible {
    /// The error type's kinds (`ExportError.Kind`, ...), as when each type declared its own.
    public typealias Kind = K

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
