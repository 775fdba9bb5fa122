import Foundation
import HutchCluster
import HutchClusterCore
import HutchWire

/// A coordinator's state directory (Protocols/journal.md): job.json, the journal, the outputs.
/// Opening it starts a new job, resumes one (cutting a torn tail), or refuses another job's.
struct StateDirectory {
    let path: String
    /// The job as recorded (the task sizing of the first start).
    let document: JobDocument
    /// Records of the journal's valid prefix, to replay.
    let records: [JournalRecord]
    let journal: JournalWriter
    var complete: Bool { records.last == .jobComplete }

    func file(_ name: String) -> String { URL(fileURLWithPath: path).appendingPathComponent(name).path }

    static func open(_ path: String, job: JobDocument) throws -> StateDirectory {
        do {
            return try openUnlocked(path, job: job)
        } catch let error as JournalIOError where error.locked {
            throw CommandFailure(.state, "\(error); stop it first, or use another state directory")
        }
    }

    static func openUnlocked(_ path: String, job: JobDocument) throws -> StateDirectory {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure(.io, "cannot create the state directory '\(path)': \((error as NSError).localizedDescription)")
        }
        let jobPath = URL(fileURLWithPath: path).appendingPathComponent("job.json").path
        let journalPath = URL(fileURLWithPath: path).appendingPathComponent("journal").path
        let recorded = FileManager.default.contents(atPath: jobPath).flatMap(JobDocument.decode)
        func refuse(_ why: String) -> CommandFailure {
            CommandFailure(.state, "\(why); use another state directory, or remove '\(path)' to start over")
        }
        func mismatch(_ digest: String) -> CommandFailure {
            let difference = recorded.flatMap { $0.jobDigest == digest ? $0.firstDifference(from: job.job) : nil }
            return refuse("'\(path)' holds another job (\(digest)) than this command's (\(job.jobDigest))"
                          + (difference.map { "; first difference: \($0)" } ?? ""))
        }
        if let recorded, recorded.jobDigest != job.jobDigest || JobDocument.digest(recorded.job) != recorded.jobDigest {
            throw mismatch(recorded.jobDigest)
        }
        guard let digest = WireDigest(job.jobDigest) else { throw CommandFailure(.internalError, "job digest \(job.jobDigest) is malformed") }

        if let bytes = FileManager.default.contents(atPath: journalPath) {
            do {
                let contents = try JournalCodec.read([UInt8](bytes))
                guard contents.header.job == digest else { throw mismatch(contents.header.job.description) }
                switch contents.tail {
                case .clean: break
                case .torn(let offset, let why), .corrupt(let offset, let why):
                    let kind = if case .torn = contents.tail { "torn" } else { "corrupt" }
                    log("warning: \(journalPath): \(kind) record at byte \(offset) (\(why)); cut back to the last valid record "
                        + "(\(contents.records.count) records, \(contents.validBytes) bytes); the rest is computed again")
                }
                let writer = try JournalWriter.resume(path: journalPath, validBytes: contents.validBytes)
                var document = recorded ?? job
                if recorded == nil {
                    try writeDurably(try document.encoded(), to: jobPath)
                } else if document.schedule != job.schedule {
                    log("coordinator: resuming with the task sizing of the first start (--workers \(document.schedule.workers)"
                        + "\(document.schedule.tasksPerWorker.map { ", --tasks-per-worker \($0)" } ?? "")): task ids depend on it")
                }
                document.inputs = job.inputs
                return StateDirectory(path: path, document: document, records: contents.records, journal: writer)
            } catch let error as JournalError {
                switch error {
                case .noHeader(let n):
                    // a crash before the header was synced: nothing was ever committed
                    if n > 0 { log("warning: \(journalPath): \(error); starting the job afresh") }
                case .newerVersion, .notAJournal, .corruptHeader:
                    throw refuse("\(journalPath): \(error)")
                }
            }
        }
        try writeDurably(try job.encoded(), to: jobPath)
        let writer = try JournalWriter.create(path: journalPath, header: JournalHeader(job: digest))
        return StateDirectory(path: path, document: job, records: [], journal: writer)
    }

    /// DIR/layers: the quantized layers the coordinator accepted, one file per layer named by
    /// the SHA-256 of its packed body (journal.md 1), read back by the export and by a resume.
    func layerStore() throws -> DirectoryBlobStore {
        let directory = file("layers")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure(.io, "cannot create '\(directory)': \((error as NSError).localizedDescription)")
        }
        return DirectoryBlobStore(directory: directory)
    }

    /// The same directory with `auto`'s choice written into job.json (durably, before any result
    /// is journaled, so every resume runs the method chosen here).
    func recording(_ choice: JobDocument.AutoChoice) throws -> StateDirectory {
        var document = document
        document.autoChoice = choice
        try Self.writeDurably(try document.encoded(), to: file("job.json"))
        return StateDirectory(path: path, document: document, records: records, journal: journal)
    }

    /// Writes to a temporary file, fsyncs it, renames it over `path` and fsyncs the directory.
    static func writeDurably(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        do {
            _ = FileManager.default.createFile(atPath: temporary, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            let directory = Glibc.open((path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
            if directory >= 0 { fsync(directory); close(directory) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CommandFailure(.io, "cannot write '\(path)': \((error as NSError).localizedDescription)")
        }
    }
}
