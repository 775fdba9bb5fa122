import Foundation
import HutchModel
import HutchSensitivity
import XCTest

/// Committed models and PyTorch reference arrays (Tests/Fixtures/README.md).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let directory = root.appendingPathComponent("Tests/Fixtures")

    struct Case {
        var graph: Graph
        var dataset: Dataset
        var reference: [String: NumPyArray]
        /// PyTorch's exact Hessian-block trace of a weight, `trace:W`.
        func trace(_ weight: String) -> Double? { reference["trace:" + weight].map { Double($0.floats()[0]) } }
    }

    static func load(_ name: String) throws -> Case {
        let graph = try ONNXLoader.load(contentsOf: directory.appendingPathComponent("\(name).onnx"))
        let refURL = directory.appendingPathComponent("\(name)_ref.npz")
        let reference = try NumPyArchive.readNPZ(contentsOf: refURL)
        guard graph.dataInputs.count > 1, let labels = reference["y"] else {
            return Case(graph: graph, dataset: try Dataset(npz: refURL), reference: reference)
        }
        // several inputs: the reference holds one array per input beside its other arrays
        let inputs = reference.filter { name, _ in graph.dataInputs.contains { $0.name == name } }
        return Case(graph: graph, dataset: try Dataset(named: inputs, labels: labels, source: refURL.path, labelsName: "y"), reference: reference)
    }

    static func example() throws -> Case {
        let graph = try ONNXLoader.load(contentsOf: root.appendingPathComponent("Examples/digits_resnet.onnx"))
        let refURL = directory.appendingPathComponent("digits_ref.npz")
        return Case(graph: graph, dataset: try Dataset(npz: refURL), reference: try NumPyArchive.readNPZ(contentsOf: refURL))
    }
}

/// A sampled estimate (Hutchinson or ggn): `probes` samples, a positive standard error, and
/// within 4 of them of `expected`.
func assertWithinStandardErrors(_ layer: LayerSensitivity, _ expected: Double, probes: Int, _ message: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
    let se = try XCTUnwrap(layer.standardError, message, file: file, line: line)
    XCTAssertEqual(layer.probes, probes, message, file: file, line: line)
    XCTAssertFalse(layer.exact, message, file: file, line: line)
    XCTAssertGreaterThan(se, 0, message, file: file, line: line)
    XCTAssertLessThanOrEqual(abs(layer.trace - expected), 4 * se, "\(message): \(layer.trace) ± \(se) vs \(expected)", file: file, line: line)
}

func assertRelative(_ a: Double, _ b: Double, _ tolerance: Double, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    let scale = max(abs(a), abs(b), 1e-30)
    XCTAssertLessThanOrEqual(abs(a - b) / scale, tolerance, "\(message): \(a) vs \(b)", file: file, line: line)
}
