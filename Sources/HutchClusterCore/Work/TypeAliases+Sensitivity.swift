import HutchSensitivity

// HutchWire and HutchSensitivity both name a type TaskResult; this file sees only the latter.
/// The partial sums of one sensitivity task (HutchSensitivity.TaskResult).
public typealias SensitivityTaskResult = TaskResult
