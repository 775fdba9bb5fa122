/// HutchSensitivity: per-layer Hessian traces of the mean cross-entropy loss (Protocols/README.md, "Definitions").
///
/// The work is cut the way the cluster shards it (issue 6):
///   `SensitivityJob`    what is measured: method, probe mode, seed, examples, batch size, layer groups
///   `SensitivityTask`   one unit of work: ranges of batches, probes and layer groups
///   `TaskRunner.run`    task -> `TaskResult` (per probe, batch and layer partial sums; pure)
///   `TraceAggregator`   results in any order -> traces, combined in canonical (layer, probe, batch) order
/// so that any cut of a job into tasks, on any number of workers and threads, gives the same bits.
/// `SensitivityAnalysis.run` drives a whole job in one process (`hutch trace`): method choice
/// (`Graph.exactTraceObstacle`), adaptive Hutchinson rounds, eigenvalues, quantization errors and
/// tie groups. Probe vectors come from `ProbeGenerator`, keyed by (seed, probe, layer) only.
public enum HutchSensitivity {}
