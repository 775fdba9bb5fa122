/// A shape that a kernel cannot work with. Its description is one line; callers that know the
/// node name wrap it (HutchAutodiff's `ExecutionError`).
public struct ShapeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
