import HutchSensitivity

/// Activation-trace tasks travel as sensitivity tasks with body format 3 (Protocols/wire.md,
/// "Body formats"), laid out as format 1: the same six range bounds (batches, probes; groups
/// empty) and the job's SensitivityWorkSpec; RESULT values are `ActivationCells`' layout.
public enum ActivationBodies {
    public static let format: UInt8 = 3

    public static func taskBody(_ task: SensitivityTask, spec: [UInt8]) -> [UInt8] {
        SensitivityBodies.taskBody(task, spec: spec, format: format)
    }

    public static func resultBody(_ task: SensitivityTask, exampleCounts: [Int]) -> [UInt8] {
        SensitivityBodies.resultBody(task, exampleCounts: exampleCounts, format: format)
    }

    public static func decodeTask(_ body: [UInt8]) throws(BodyError) -> (task: SensitivityTask, spec: [UInt8]) {
        try SensitivityBodies.decodeTask(body, format: format)
    }

    public static func decodeResult(_ body: [UInt8]) throws(BodyError) -> (task: SensitivityTask, exampleCounts: [Int]) {
        try SensitivityBodies.decodeResult(body, format: format)
    }
}
