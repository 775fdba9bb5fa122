import HutchAllocation
import HutchAutodiff
import HutchCluster
import HutchModel
import HutchQuantize
import HutchSensitivity

/// Maps any error to its one-line message and exit code. Module errors are mapped here, in one
/// place, so that the modules below the jobs stay free of exit codes.
public func describe(_ error: Error) -> CommandFailure {
    if let failure = error as? CommandFailure { return failure }
    if let error = error as? ModelError {
        switch error {
        case .unreadableFile, .unwritableFile: return CommandFailure(.io, error.description)
        case .invalidModel, .unsupportedOps: return CommandFailure(.invalidModel, error.description)
        case .invalidData: return CommandFailure(.invalidData, error.description)
        }
    }
    if let allocation = error as? AllocationError {
        switch allocation {
        case .invalidSensitivity, .missingQuantizationErrors:
            return CommandFailure(.invalidSensitivity, allocation.description)
        case .invalidRequest:
            return CommandFailure(.usage, allocation.description)
        case .invalidLatencyTable:
            return CommandFailure(.invalidData, allocation.description)
        case .infeasible:
            return CommandFailure(.infeasible, allocation.description)
        }
    }
    if let export = error as? ExportError {
        switch export.kind {
        case .plan: return CommandFailure(.invalidSensitivity, export.description)
        case .model: return CommandFailure(.invalidModel, export.description)
        case .data: return CommandFailure(.invalidData, export.description)
        }
    }
    if let sensitivity = error as? SensitivityError {
        switch sensitivity.kind {
        case .unsupported: return CommandFailure(.invalidModel, sensitivity.description)
        case .invalidJob: return CommandFailure(.usage, sensitivity.description)
        case .invalidResult: return CommandFailure(.internalError, sensitivity.description)
        case .memory: return CommandFailure(.memory, sensitivity.description)
        }
    }
    // Quantizer inputs are model weights (data problems are caught earlier by Dataset.validate).
    if let quantizer = error as? QuantizerError { return CommandFailure(.invalidModel, quantizer.description) }
    if let packed = error as? PackedWeightFileError { return CommandFailure(.io, packed.description) }
    if let execution = error as? ExecutionError { return CommandFailure(.invalidModel, execution.description) }
    if let journal = error as? JournalIOError { return CommandFailure(.io, journal.description) }
    if let zmq = error as? ZMQError { return CommandFailure(.io, zmq.description) }
    if let cache = error as? BlobCacheError { return CommandFailure(.io, cache.description) }
    if let security = error as? SecurityError {
        // libzmq without CURVE is an installation problem, not a key problem
        return CommandFailure(security.kind == .unavailable ? .io : .keys, security.description)
    }
    return CommandFailure(.internalError, "\(error)")
}
