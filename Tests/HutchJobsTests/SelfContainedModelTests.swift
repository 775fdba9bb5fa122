import Foundation
@testable import HutchJobs
import HutchClusterCore
import HutchModel
import XCTest

/// The self-contained copy of an external-data model that `--fetch-blobs` workers fetch: streamed
/// to the state directory, byte for byte the model re-encoded in memory with each tensor's bytes
/// copied out of the data file (how the copy was made before, and what its digest in job.json is).
final class SelfContainedModelTests: JobsTestCase {
    func fixture(_ name: String) -> String { repository("Tests/Fixtures/model/" + name) }

    /// The copy made the old way: every external tensor's bytes read from the data file into raw_data.
    func encodedInMemory(_ modelPath: String) throws -> [UInt8] {
        var proto = try ONNXLoader.decode(bytes: try bytes(modelPath), source: modelPath)
        let data = try bytes(modelPath + ".data")
        for i in proto.graph!.initializers.indices where proto.graph!.initializers[i].usesExternalData {
            let entries = Dictionary(uniqueKeysWithValues: proto.graph!.initializers[i].externalData.map { ($0.key, $0.value) })
            let offset = Int(entries["offset"] ?? "0")!, length = Int(entries["length"]!)!
            proto.graph!.initializers[i].rawData = Array(data[offset..<offset + length])
            proto.graph!.initializers[i].externalData = []
            proto.graph!.initializers[i].dataLocation = 0
        }
        return proto.encoded()
    }

    func testTheStreamedCopyIsTheModelEncodedInMemory() throws {
        let model = fixture("resnetish_dynamo_external.onnx")
        let proto = try ONNXLoader.decode(storage: try mapModel(model), source: model)
        let copy = try XCTUnwrap(try SelfContainedModel.write(proto, path: model, stateDirectory: path("state")))
        XCTAssertEqual(copy.path, path("state/served-model.onnx"))
        let expected = try encodedInMemory(model)
        XCTAssertEqual(try bytes(copy.path), expected, "byte-identical to the in-memory encoding")
        XCTAssertEqual(copy.digest, Digest.sha256(expected), "the digest workers check")
        XCTAssertEqual(try ExternalDataFiles(modelPath: model).inlined(proto).encoded(), expected, "inlined() without copies encodes the same")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("state")), ["served-model.onnx"], "no temporary left")
        // the copy is a model of its own: the same graph as the model with its data file beside it
        let served = try ONNXLoader.load(contentsOf: URL(fileURLWithPath: copy.path))
        let original = try ONNXLoader.load(contentsOf: URL(fileURLWithPath: model))
        XCTAssertEqual(served.nodes, original.nodes)
        XCTAssertEqual(served.initializers, original.initializers)
    }

    func testAModelWithoutExternalDataIsServedAsItIs() throws {
        let model = fixture("resnetish_dynamo.onnx")
        let proto = try ONNXLoader.decode(storage: try mapModel(model), source: model)
        XCTAssertNil(try SelfContainedModel.write(proto, path: model, stateDirectory: path("state")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("state")), "nothing written")
    }

    func testServedBlobsRecordTheCopysDigestAndTheCallerRemovesIt() throws {
        let model = fixture("resnetish_dynamo_external.onnx")
        let proto = try ONNXLoader.decode(storage: try mapModel(model), source: model)
        var source = ModelSource(modelPath: model, dataNPZ: "/unused.npz")
        let (served, copy) = try ClusterJob.servedBlobs([model], source: &source, proto: proto, path: model,
                                                        modelDigest: "sha256:of-the-file", stateDirectory: path("state"))
        XCTAssertEqual(copy, path("state/served-model.onnx"))
        XCTAssertEqual(source.digests[model], Digest.sha256(try encodedInMemory(model)))
        XCTAssertEqual(served.digests.map(\.description), [source.digests[model]])
    }
}
