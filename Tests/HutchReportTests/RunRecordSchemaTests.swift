import Foundation
@testable import HutchReport
import XCTest

/// run.json as written agrees with Protocols/run.schema.json: the same keys at the top and in
/// each phase, every phase name one the schema allows.
final class RunRecordSchemaTests: XCTestCase {
    func testEncodedKeysAreTheSchemasKeys() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Protocols/run.schema.json")
        let schema = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let phaseNames = ["setup", "sensitivity", "plan", "quantize", "outputs"]
        let record = RunRecord(hutchVersion: "0.1.0", command: "coordinator", model: "/m.onnx", data: [], startedAt: "a",
                               finishedAt: "b", wallSeconds: 1, workersExpected: 4, workers: ["w"], tasks: 3, duplicates: 0,
                               phases: phaseNames.map { .init(name: $0, seconds: 0.2, tasks: 0) }, coordinatorPeakResidentBytes: 123_456,
                               workerPeakResidentBytes: [654_321, nil])
        let written = try XCTUnwrap(JSONSerialization.jsonObject(with: record.encoded()) as? [String: Any])
        // the optional keys: the peak memory, absent where the system does not report it
        XCTAssertEqual(Set(written.keys).subtracting(["coordinator_peak_resident_bytes", "worker_peak_resident_bytes"]), Set(try XCTUnwrap(schema["required"] as? [String])))
        XCTAssertEqual(Set(written.keys), Set(try XCTUnwrap(schema["properties"] as? [String: Any]).keys))
        XCTAssertEqual(written["coordinator_peak_resident_bytes"] as? Int, 123_456)
        let workerPeaks = try XCTUnwrap(written["worker_peak_resident_bytes"] as? [Any])
        XCTAssertEqual(workerPeaks.first as? Int, 654_321)
        XCTAssertTrue(workerPeaks.last is NSNull, "a worker that reported nothing is null")
        let properties = try XCTUnwrap(schema["properties"] as? [String: Any])
        let phaseSchema = try XCTUnwrap(((properties["phases"] as? [String: Any])?["items"]) as? [String: Any])
        let phase = try XCTUnwrap((written["phases"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(phase.keys), Set(try XCTUnwrap(phaseSchema["required"] as? [String])))
        let allowed = (((phaseSchema["properties"] as? [String: Any])?["name"]) as? [String: Any])?["enum"] as? [String]
        XCTAssertEqual(allowed, phaseNames)
        XCTAssertEqual((properties["format"] as? [String: Any])?["const"] as? String, RunRecord.formatName)
    }
}
