import HutchCluster
import HutchClusterCore

extension ClusterJob {
    /// Runs `step`, the coordinator's work between two phases, while `server` (once bound) keeps
    /// serving `core` so that the workers' links stay alive however long the step takes
    /// (wire.md 5.3). `step` must not touch `core`: it reads a copy taken before.
    static func keepingAlive<T>(_ server: CoordinatorServer?, _ core: inout CoordinatorCore,
                                _ step: @escaping () throws -> T) throws -> T {
        guard let server else { return try step() }   // nothing served yet: the journal's replay ran the phase
        return try server.keepingAlive(&core, log: { log("coordinator: \($0)") }, during: step)
    }
}
