import Foundation
import HutchClusterCore
@testable import HutchJobs
import HutchModel
import HutchQuantize
import XCTest

/// The coordinator's calibration read from the files a window at a time exports exactly the QDQ
/// bytes of calibrating on the whole set in memory, from the .npz and from an .npy pair, for
/// any window and batch size.
final class FileCalibrationGroupsTests: JobsTestCase {
    func testGroupsFromTheFilesExportTheBytesOfTheWholeSet() throws {
        let modelPath = repository("Examples/digits_resnet.onnx"), npz = repository("Examples/digits.npz")
        let proto = try ONNXModelProto(decoding: try bytes(modelPath))
        let graph = try ONNXLoader.load(model: proto, source: modelPath)
        let (dataset, _) = try DataSource.npz(npz).load()
        let widths = [4, 8, 3, 8, 5, 8, 6].map { LayerWidths(weightBits: 4, activationBits: $0) }
        let quantizer = try ModelQuantizer(graph: graph, widths: widths)
        let whole = try quantizer.quantize(calibration: dataset.inputs, method: .minMax)
        let expected = try QDQExporter.export(whole, original: proto, source: modelPath).encoded()

        let arrays = try NumPyArchive.readNPZ(contentsOf: URL(fileURLWithPath: npz))
        try NumPyArchive.writeNPY(try XCTUnwrap(arrays["x"]), to: URL(fileURLWithPath: path("x.npy")))
        try NumPyArchive.writeNPY(try XCTUnwrap(arrays["y"]), to: URL(fileURLWithPath: path("y.npy")))
        let sources = [DataSource.npz(npz), .npy(inputs: path("x.npy"), labels: path("y.npy"))]
        let exampleBytes = 64 * 4
        for (source, read, batch) in [(sources[0], 450, 64), (sources[0], 7, 3), (sources[1], 64, 8), (sources[1], 1, 1)] {
            let groups = FileCalibrationGroups(source: source, dataset: dataset, files: OpenDataFiles(), readBytes: read * exampleBytes, batchSize: batch)
            XCTAssertEqual(groups.examplesPerRead, read)
            let (inputs, outputs) = try quantizer.calibrate(groups, method: .minMax)
            let model = QuantizedModel(graph: graph, layers: whole.layers, inputs: inputs, outputs: outputs)
            let bytes = try QDQExporter.export(model, original: proto, source: modelPath).encoded()
            XCTAssertEqual(bytes, expected, "\(source.description), reads of \(read), batches of \(batch)")
        }
    }

    /// The windows read the files the load opened, even once their paths are gone.
    func testWindowsReadTheFilesOpenedAtTheLoadAfterTheirPathsAreRemoved() throws {
        try FileManager.default.copyItem(atPath: repository("Examples/digits.npz"), toPath: path("d.npz"))
        let files = OpenDataFiles()
        let (dataset, _) = try DataSource.npz(path("d.npz")).load(keepingExamples: 4, files: files)
        try FileManager.default.removeItem(atPath: path("d.npz"))
        let groups = FileCalibrationGroups(source: .npz(path("d.npz")), dataset: dataset, files: files, readBytes: 100 * 64 * 4)
        var examples = 0
        try groups.forEachGroup { examples += $0.shape[0] }
        XCTAssertEqual(examples, 450)
        XCTAssertThrowsError(try FileCalibrationGroups(source: .npz(path("d.npz")), dataset: dataset, files: OpenDataFiles())
            .forEachGroup { _ in }, "a fresh open finds no file")
    }

    /// The coordinator keeps --samples examples; the count is the files'.
    func testKeepingTheSampledExamplesKeepsTheFilesCount() throws {
        let (kept, digest) = try DataSource.npz(repository("Examples/digits.npz")).load(keepingExamples: 16)
        XCTAssertEqual(kept.count, 16)
        XCTAssertEqual(kept.examplesInFiles, 450)
        XCTAssertEqual(digest, Digest.sha256(try bytes(repository("Examples/digits.npz"))))
    }
}
