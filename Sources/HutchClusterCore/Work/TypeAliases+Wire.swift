import HutchWire

// HutchWire and HutchSensitivity both name a type TaskResult; this file sees only the former.
/// The RESULT message (HutchWire.TaskResult).
public typealias WireTaskResult = TaskResult
