import HutchErrors

/// Why a sensitivity job or task was refused. One line naming the layer, node, flag or task.
public typealias SensitivityError = OneLineError<SensitivityErrorKind>

public enum SensitivityErrorKind: Hashable, Sendable {
    /// The job asks for something the model does not allow (e.g. exact traces of a network
    /// that is not piecewise linear).
    case unsupported
    /// A job or task parameter is out of range or inconsistent.
    case invalidJob
    /// A task result does not fit its job (wrong counts, duplicate, missing pieces).
    case invalidResult
    /// `--memory` is too small for the job's smallest unit of work (a Hutchinson chunk).
    case memory
}
