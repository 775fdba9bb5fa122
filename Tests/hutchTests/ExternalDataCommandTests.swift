import Foundation
import XCTest

/// A model whose weights PyTorch's default exporter wrote beside it (`NAME.onnx.data`), through
/// the cluster job: traced, planned, quantized into one self-contained file; new weights in the
/// data file are a new job, not a resume.
final class ExternalDataCommandTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-external-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let fixtures = HutchProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/model")
        for name in ["resnetish_dynamo_external.onnx", "resnetish_dynamo_external.onnx.data"] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testRunQuantizesIntoOneFileAndNewWeightsAreANewJob() throws {
        let model = directory.appendingPathComponent("resnetish_dynamo_external.onnx").path
        let state = directory.appendingPathComponent("state").path
        let args = ["run", "--model", model, "--data", "Tests/Fixtures/model/numpy/data_stored.npz", "--workers", "1", "--threads", "1",
                    "--method", "hutchinson", "--probes", "4", "--bits", "4,8", "--avg-bits", "6", "--out", state]
        let first = try HutchProcess.run(args)
        XCTAssertEqual(first.status, 0, first.stderr)
        let quantized = try Data(contentsOf: URL(fileURLWithPath: state + "/quantized.onnx"))
        XCTAssertGreaterThan(quantized.count, 8_000, "the float tensors the export keeps are inside")
        XCTAssertNil(quantized.range(of: Data("resnetish_dynamo_external.onnx.data".utf8)), "no reference to the input's data file")
        // the same weights: complete; other weights in the data file: another job
        let again = try HutchProcess.run(args)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("is complete"), again.stderr)
        let data = directory.appendingPathComponent("resnetish_dynamo_external.onnx.data")
        var bytes = [UInt8](try Data(contentsOf: data))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: data)
        let changed = try HutchProcess.run(args)
        XCTAssertEqual(changed.status, 11, changed.stderr)
        // the job's model digest is of the model with its tensors inside (what --fetch-blobs workers get)
        XCTAssertTrue(changed.stderr.contains("model_digest"), changed.stderr)
    }

    func testAMissingDataFileIsOneLineNamingIt() throws {
        try FileManager.default.removeItem(at: directory.appendingPathComponent("resnetish_dynamo_external.onnx.data"))
        let inspect = try HutchProcess.run(["inspect", directory.appendingPathComponent("resnetish_dynamo_external.onnx").path])
        XCTAssertNotEqual(inspect.status, 0)
        XCTAssertEqual(inspect.stderr.split(separator: "\n").count, 1, inspect.stderr)
        XCTAssertTrue(inspect.stderr.contains("'resnetish_dynamo_external.onnx.data'"), inspect.stderr)
    }
}

/// Workers without the shared filesystem (`--fetch-blobs`) receive a model with external data
/// as one self-contained blob: the model with its tensors inside.
final class ExternalDataFetchTests: ProcessTestCase {
    func testFetchBlobsWorkersGetTheModelWithItsTensorsInside() throws {
        let fixtures = HutchProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/model")
        for name in ["resnetish_dynamo_external.onnx", "resnetish_dynamo_external.onnx.data"] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        let model = directory.appendingPathComponent("resnetish_dynamo_external.onnx").path
        let flags = ["--model", model, "--data", "Tests/Fixtures/model/numpy/data_stored.npz", "--method", "hutchinson", "--probes", "4"]
        let reference = directory.appendingPathComponent("reference.json").path
        let trace = try HutchProcess.run(["trace"] + flags + ["--out", reference])
        XCTAssertEqual(trace.status, 0, trace.stderr)
        let state = directory.appendingPathComponent("state").path
        let coordinator = try start(["coordinator", "--bind", "tcp://127.0.0.1:*", "--workers", "1"] + flags + ["--state", state], log: "coordinator")
        guard let endpoint = announcedEndpoint() else { return }
        let worker = try start(["worker", "--connect", endpoint, "--name", "far", "--threads", "1", "--fetch-blobs"], log: "far")
        XCTAssertEqual(wait(coordinator, 60, "the coordinator"), 0, stderr("coordinator"))
        XCTAssertEqual(wait(worker, 10, "the worker"), 0, stderr("far"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: state + "/sensitivity.json")), try Data(contentsOf: URL(fileURLWithPath: reference)))
        // the model blob is bigger than the .onnx file (16 KB of weights in, the external references out)
        let onnxBytes = try FileManager.default.attributesOfItem(atPath: model)[.size] as? Int ?? 0
        let fetched = stderr("far").split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: "fetched blob ") else { return nil }
            return line[range.upperBound...].split(separator: "(").last.flatMap { Int($0.split(separator: " ").first ?? "") }
        }
        XCTAssertTrue(fetched.contains { $0 > onnxBytes + 4_000 }, "blobs of \(fetched) bytes; the .onnx file is \(onnxBytes): \(stderr("far"))")
    }
}
