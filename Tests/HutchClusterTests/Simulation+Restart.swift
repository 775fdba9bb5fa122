import HutchClusterCore
import HutchQuantize
import HutchWire
import XCTest

/// Coordinator crash and restart from its journal, under the simulator's fake clock.
extension Simulation {
    /// Crashes the coordinator now and starts a new one from the journal. Only records synced
    /// before the crash survive: the shell syncs in groups, so records appended less than
    /// `syncWindowMs` ago are lost (and a torn piece of the first lost one, `tearBytes` long,
    /// ends the file). Messages in flight to the coordinator are lost with it. The new core
    /// (same job, new epoch, from `make`) replays the records read back through the codec; a
    /// phase end during replay starts the quantize phase exactly as in the live run.
    /// `event` names the end of the old process in the log ("stopped" for SIGTERM, Simulation+Stop).
    /// `damageLayers` stands for layer files lost or damaged with the crash.
    mutating func crashCoordinator(syncWindowMs: UInt64, tearBytes: Int = 0, event: String = "crashed",
                                   damageLayers: (any ProducedBlobStore) -> any ProducedBlobStore = { $0 },
                                   make: (_ epoch: UInt64) -> CoordinatorCore) throws {
        let synced = journal.prefix { $0.at + syncWindowMs <= now }
        var bytes = JournalCodec.encode(JournalHeader(job: coordinator.jobDigest))
        for entry in synced { bytes += try JournalCodec.encode(entry.record) }
        if tearBytes > 0, let lost = journal.dropFirst(synced.count).first {
            bytes += try JournalCodec.encode(lost.record).prefix(tearBytes)
        }
        let contents = try JournalCodec.read(bytes)
        XCTAssertEqual(contents.records, synced.map(\.record))
        XCTAssertEqual(contents.tail == .clean, tearBytes == 0 || synced.count == journal.count)
        network.removeAll { $0.toCoordinator }
        journal = Array(synced)
        let layers = coordinator.layerStore   // the state directory's layers/ outlive the process
        coordinator = make(coordinator.config.epoch + 1)
        coordinator.layerStore = damageLayers(layers)
        stopped = false
        lies = Lies()   // what the old process knew of them is gone with it
        estimates = nil
        pausedUntil = nil   // the paused process is gone; the new one starts its phases itself
        logs.append("c: \(event) at \(now) ms; \(contents.records.count) of the records synced")
        for record in contents.records { apply(try coordinator.replay(record)) }
    }
}

extension CoordinatorCore {
    /// Every layer of a `.quantized` outcome, read back from the layer store (tests compare them whole).
    func quantizedLayers(_ digests: [WireDigest]) throws -> [QuantizedLayer] {
        try digests.enumerated().map { try quantizedLayer($0, digest: $1) }
    }
}
