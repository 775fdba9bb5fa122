import Foundation
import HutchModel
import HutchQuantize
import XCTest

/// The deferred export written by the streaming writer gives exactly the bytes of `export`
/// encoded whole, with the layers' codes made one layer at a time (from headers without codes).
final class QDQDeferredExportTests: XCTestCase {
    private func quantized(_ bits: [Int], activations: Bool) throws -> QuantizedModel {
        let graph = try ExampleModel.graph()
        let data = try ExampleModel.data().prefix(64)
        return try ModelQuantizer(graph: graph, widths: bits.map { LayerWidths(weightBits: $0, activationBits: 8) })
            .quantize(calibration: activations ? data.inputs : nil)
    }

    func testDeferredExportStreamsTheSameBytesAsTheWholeExport() throws {
        let original = try ExampleModel.proto()
        for (bits, activations) in [([4, 4, 8, 3, 12, 2, 4], true), ([8, 2, 16, 5, 4, 3, 6], false)] {
            let model = try quantized(bits, activations: activations)
            let whole = try QDQExporter.export(model, original: original, source: "example").encoded()
            var headers = model
            for i in headers.layers.indices { headers.layers[i].weight.codes = [] }
            let layers = model.layers
            let asked = Counter()
            let (exported, deferred) = try QDQExporter.exportDeferred(headers, original: original, source: "example") { index in
                asked.add(index)
                return layers[index].weight.codes
            }
            XCTAssertEqual(deferred.count, model.layers.count)
            XCTAssertTrue(asked.indices.isEmpty, "no layer's codes are made before the file is written")
            var sink = ByteArraySink()
            try exported.stream(deferred: deferred, into: &sink)
            XCTAssertEqual(sink.bytes, whole, "bits \(bits)")
            XCTAssertEqual(asked.indices, Array(model.layers.indices), "each layer's codes made once, in file order")
        }
    }

    func testCodesOfAnotherCountAreAnError() throws {
        let model = try quantized([4, 4, 8, 3, 12, 2, 4], activations: false)
        let (exported, deferred) = try QDQExporter.exportDeferred(model, original: try ExampleModel.proto(), source: "example") { _ in [1, 2] }
        var sink = ByteArraySink()
        XCTAssertThrowsError(try exported.stream(deferred: deferred, into: &sink)) {
            XCTAssertTrue("\($0)".contains("2 codes read back, its weight has"), "\($0)")
        }
    }
}

/// Which layers' codes were asked for, in order (the deferred closure is @Sendable).
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var asked: [Int] = []
    var indices: [Int] { lock.withLock { asked } }
    func add(_ index: Int) { lock.withLock { asked.append(index) } }
}
