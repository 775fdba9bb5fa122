import Foundation
import HutchModel
import XCTest

/// The streaming writer gives exactly `encoded()`'s bytes (and `externalized`'s side file), for
/// every committed model, with tensors deferred or not; a deferred tensor that makes another
/// size than it announced is an error, never a malformed file.
final class ONNXStreamingTests: XCTestCase {
    /// The model with the raw data of its initializers of at least 64 bytes taken out and
    /// deferred (the tensor keeps an empty raw_data, as the QDQ export's placeholders do).
    private func deferring(_ model: ONNXModelProto) -> (ONNXModelProto, [String: DeferredTensorData]) {
        var model = model
        var deferred: [String: DeferredTensorData] = [:]
        guard var graph = model.graph else { return (model, deferred) }
        for i in graph.initializers.indices {
            guard let raw = graph.initializers[i].rawData, raw.count >= 64 else { continue }
            deferred[graph.initializers[i].name] = DeferredTensorData(byteCount: raw.count) { raw }
            graph.initializers[i].rawData = []
        }
        model.graph = graph
        return (model, deferred)
    }

    func testStreamedBytesAreTheEncodedBytesForEveryCommittedModel() throws {
        let models = try ONNXEncodingTests.committedModels()
        XCTAssertGreaterThanOrEqual(models.count, 15)
        var deferredSomewhere = false
        for url in models {
            let model = try ONNXModelProto(decoding: [UInt8](try Data(contentsOf: url)))
            var whole = ByteArraySink()
            try model.stream(into: &whole)
            XCTAssertEqual(whole.bytes, model.encoded(), url.lastPathComponent)

            let (placeholders, deferred) = deferring(model)
            deferredSomewhere = deferredSomewhere || !deferred.isEmpty
            var streamed = ByteArraySink()
            try placeholders.stream(deferred: deferred, into: &streamed)
            XCTAssertEqual(streamed.bytes, model.encoded(), "deferred: \(url.lastPathComponent)")
            XCTAssertEqual(placeholders.inlineTensorBytes(deferred: deferred), model.inlineTensorBytes(), url.lastPathComponent)

            let (split, data) = model.externalized(location: "m.data", minimumBytes: 100)
            var side = ByteArraySink()
            let streamedSplit = try placeholders.externalized(location: "m.data", minimumBytes: 100, deferred: deferred, into: &side)
            XCTAssertEqual(side.bytes, data, "side file: \(url.lastPathComponent)")
            var splitBytes = ByteArraySink()
            try streamedSplit.stream(deferred: deferred, into: &splitBytes)
            XCTAssertEqual(splitBytes.bytes, split.encoded(), "model beside its side file: \(url.lastPathComponent)")
        }
        XCTAssertTrue(deferredSomewhere, "some committed model has tensors to defer")
    }

    func testADeferredTensorOfAnotherSizeIsAnError() throws {
        let url = try XCTUnwrap(try ONNXEncodingTests.committedModels().first { $0.lastPathComponent == "mlp.onnx" })
        var (model, deferred) = deferring(try ONNXModelProto(decoding: [UInt8](try Data(contentsOf: url))))
        let name = try XCTUnwrap(deferred.keys.sorted().first)
        deferred[name] = DeferredTensorData(byteCount: 64) { [UInt8](repeating: 0, count: 63) }
        var sink = ByteArraySink()
        XCTAssertThrowsError(try model.stream(deferred: deferred, into: &sink)) {
            XCTAssertEqual("\($0)", "tensor '\(name)': 63 bytes of data, 64 announced")
        }
        model.graph = nil
        XCTAssertNoThrow(try model.stream(deferred: deferred, into: &sink))
    }
}
