import Foundation
import HutchAllocation

/// run.json (Protocols/README.md): what a cluster job did, written by the coordinator at the end
/// of `hutch run` / `hutch coordinator`: workers seen, tasks, duplicate results, seconds per
/// phase, start and end times, hutch version. JSON keys are the snake_case property names.
public struct RunRecord: Codable, Sendable, Equatable {
    public static let formatName = "hutch.run"
    public static let currentVersion = 1

    public var format = RunRecord.formatName
    public var version = RunRecord.currentVersion
    public var hutchVersion: String
    /// "run" or "coordinator".
    public var command: String
    /// Absolute paths of the model and data files the job read.
    public var model: String
    public var data: [String]
    /// ISO 8601 UTC, e.g. "2026-11-21T19:30:59Z".
    public var startedAt: String
    public var finishedAt: String
    public var wallSeconds: Double
    public var workersExpected: Int
    /// Names of every worker process that joined, in the order they first joined (a worker
    /// process that restarts under the same name joins again).
    public var workers: [String]
    /// Tasks completed (every kind: traces, quantization errors, eigenvalues, quantize).
    public var tasks: Int
    /// Results that arrived for an already completed task and were ignored.
    public var duplicates: Int
    public var phases: [Phase]
    /// The coordinator process's peak resident memory in bytes (getrusage), when known.
    public var coordinatorPeakResidentBytes: Int?
    /// Each worker process's peak resident memory in bytes, in `workers` order, as it last
    /// reported it on a RESULT (null: it reported none).
    public var workerPeakResidentBytes: [Int?]?

    public struct Phase: Codable, Sendable, Equatable {
        /// "setup", "sensitivity", "plan", "quantize", "outputs".
        public var name: String
        public var seconds: Double
        /// Tasks completed in this phase.
        public var tasks: Int
        public init(name: String, seconds: Double, tasks: Int) {
            self.name = name
            self.seconds = seconds
            self.tasks = tasks
        }
    }

    public init(hutchVersion: String, command: String, model: String, data: [String], startedAt: String,
                finishedAt: String, wallSeconds: Double, workersExpected: Int, workers: [String], tasks: Int,
                duplicates: Int, phases: [Phase], coordinatorPeakResidentBytes: Int? = nil, workerPeakResidentBytes: [Int?]? = nil) {
        self.hutchVersion = hutchVersion
        self.command = command
        self.model = model
        self.data = data
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.wallSeconds = wallSeconds
        self.workersExpected = workersExpected
        self.workers = workers
        self.tasks = tasks
        self.duplicates = duplicates
        self.phases = phases
        self.coordinatorPeakResidentBytes = coordinatorPeakResidentBytes
        self.workerPeakResidentBytes = workerPeakResidentBytes
    }

    public func encoded() throws -> Data {
        try JSONEncoder.hutchFile().encode(self)
    }

    /// Decodes and checks run.json; errors are one line naming `source` and the field.
    public static func decode(_ data: Data, source: String = "run.json") throws -> RunRecord {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let record: RunRecord
        do {
            record = try decoder.decode(RunRecord.self, from: data)
        } catch let error as DecodingError {
            throw ReportError("\(source): \(describe(error)); it is written by `hutch run` / `hutch coordinator`")
        }
        guard record.format == formatName, record.version == currentVersion else {
            throw ReportError("\(source): format '\(record.format)' version \(record.version) is not a \(formatName) version \(currentVersion) file")
        }
        guard record.wallSeconds.isFinite, record.wallSeconds >= 0,
              record.phases.allSatisfy({ $0.seconds.isFinite && $0.seconds >= 0 }) else {
            throw ReportError("\(source): wall_seconds and phases[].seconds must be finite and ≥ 0")
        }
        return record
    }
}

/// A report input that cannot be used; `description` is one line naming the file and field.
public struct ReportError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

func describe(_ error: DecodingError) -> String {
    func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context): return "missing field '\(path(context.codingPath + [key]))'"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
        return "field '\(path(context.codingPath))' has the wrong type or is null"
    case .dataCorrupted(let context):
        return context.codingPath.isEmpty ? "not valid JSON" : "field '\(path(context.codingPath))' is invalid"
    @unknown default: return "cannot be decoded"
    }
}
