import Foundation
import HutchModel
import HutchSensitivity

/// DIR/job.json (Protocols/journal.md 1): what determines a cluster job's outputs, its digest,
/// where the inputs were, and how the work was cut into tasks.
struct JobDocument: Codable {
    /// Everything that determines the output bytes; its digest names the job.
    struct Job: Codable, Equatable {
        var hutchVersion: String
        var modelDigest: String
        var dataDigests: [String]
        var trace: Trace
        /// `hutch plan` flags as given (a latency table by its digest).
        var plan: [String: String]
        /// `--loss` when given (absent otherwise), so a resume must name the same head.
        var loss: String?
    }

    /// The resolved `hutch trace` options (defaults filled in).
    struct Trace: Codable, Equatable {
        var method: String
        var mode: String
        var probes: Int?
        var tolerance: Double
        var maxProbes: Int
        var probesPerRound: Int
        var seed: UInt64
        var samples: Int?
        var batchSize: Int
        var eigenvalues: Bool
        var eigenIterations: Int
        var bits: [Int]
        var probesPerCall: Int
        /// `--activations`; absent without it, so older job.json files keep their digest.
        var activations: Bool?
        /// `--measured`; absent without it, as `activations`.
        var measured: Bool?

        init(_ o: TraceOptions) {
            method = o.method.rawValue; mode = o.mode.rawValue; probes = o.probes; tolerance = o.tolerance
            maxProbes = o.maxProbes; probesPerRound = o.probesPerRound; seed = o.seed; samples = o.samples
            batchSize = o.batchSize; eigenvalues = o.eigenvalues; eigenIterations = o.eigenIterations
            bits = o.bits; probesPerCall = o.probesPerCall
        }
    }

    /// How the work is cut into tasks (task ids follow from it); recorded at the first start.
    struct Schedule: Codable, Equatable {
        var workers: Int
        var tasksPerWorker: Int?
    }

    /// `auto` as decided when the job was created, when that took a calibration (outside `job`:
    /// the command asked for `auto`; a resume runs the recorded method and never re-decides).
    struct AutoChoice: Codable, Equatable {
        var method: String
        var reason: String
    }

    var format = "hutch.job"
    var version = 1
    var jobDigest: String
    var job: Job
    var inputs: [String: [String]]
    var schedule: Schedule
    var autoChoice: AutoChoice?

    init(job: Job, inputs: [String: [String]], schedule: Schedule) {
        self.job = job
        self.inputs = inputs
        self.schedule = schedule
        jobDigest = Self.digest(job)
    }

    /// SHA-256 of `job` as compact JSON with sorted keys.
    static func digest(_ job: Job) -> String {
        Digest.sha256((try? encoder(pretty: false).encode(job)) ?? Data())
    }

    static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    func encoded() throws -> Data {
        var data = try Self.encoder(pretty: true).encode(self)
        data.append(0x0A)
        return data
    }

    static func decode(_ data: Data) -> JobDocument? {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(JobDocument.self, from: data)
    }

    /// The first field where `other` differs, as "trace.seed (0 here, 3 there)"; nil if none found.
    func firstDifference(from other: Job) -> String? {
        func json(_ value: some Encodable) -> String {
            (try? Self.encoder(pretty: false).encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        }
        let pairs: [(String, String, String)] = [
            ("hutch_version", json(other.hutchVersion), json(job.hutchVersion)),
            ("model_digest", json(other.modelDigest), json(job.modelDigest)),
            ("data_digests", json(other.dataDigests), json(job.dataDigests)),
        ]
        if let d = pairs.first(where: { $0.1 != $0.2 }) { return "\(d.0) (\(d.1) now, \(d.2) in the state directory)" }
        // field by field through their JSON forms (snake_case names, null for a default)
        let encoder = Self.encoder(pretty: false)
        if let now = (try? encoder.encode(other.trace)).flatMap({ try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }),
           let then = (try? encoder.encode(job.trace)).flatMap({ try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }) {
            for key in Set(now.keys).union(then.keys).sorted() {
                let a = now[key].map { "\($0)" } ?? "default", b = then[key].map { "\($0)" } ?? "default"
                if a != b { return "trace.\(key) (\(a) now, \(b) in the state directory)" }
            }
        }
        for key in Set(other.plan.keys).union(job.plan.keys).sorted() where other.plan[key] != job.plan[key] {
            return "--\(key) (\(other.plan[key] ?? "not given") now, \(job.plan[key] ?? "not given") in the state directory)"
        }
        return nil
    }
}
