/// The version written into sensitivity.json, job.json and run.json, and printed by `hutch --version`.
public let hutchVersion = "0.1.0"
