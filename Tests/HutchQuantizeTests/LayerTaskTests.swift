import HutchTestSupport
import HutchModel
import HutchQuantize
import XCTest

/// Layers are independent units of work: the assembled result does not depend on how the
/// layers were split into groups or in which order the groups ran.
final class LayerTaskTests: XCTestCase {
    func testAssemblyIsIndependentOfGrouping() throws {
        let graph = try ExampleModel.graph()
        let widths = [8, 3, 4, 2, 5, 6, 1].map { LayerWidths(weightBits: $0) }
        let tasks = try ModelQuantizer(graph: graph, widths: widths).tasks()
        XCTAssertEqual(tasks.count, 7)
        let reference = try QuantizedLayer.assemble([tasks.map { try $0.run() }], expected: tasks.count)
        XCTAssertEqual(reference.map(\.bits), [8, 3, 4, 2, 5, 6, 1])

        var rng = SplitMix64(seed: 42)
        for trial in 0..<20 {
            // Random order, random group boundaries, each group run separately.
            var order = Array(tasks.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var groups: [[QuantizedLayer]] = [[]]
            for index in order {
                if !groups[groups.count - 1].isEmpty && rng.next() % 2 == 0 { groups.append([]) }
                groups[groups.count - 1].append(try tasks[index].run())
            }
            XCTAssertEqual(try QuantizedLayer.assemble(groups, expected: tasks.count), reference, "trial \(trial)")
        }
        let singletons = try tasks.reversed().map { [try $0.run()] }
        XCTAssertEqual(try QuantizedLayer.assemble(singletons, expected: tasks.count), reference)
    }

    func testAssemblyRefusesMissingAndDuplicateLayers() throws {
        let graph = try ExampleModel.graph()
        let tasks = try ModelQuantizer(graph: graph, widths: Array(repeating: LayerWidths(weightBits: 4), count: 7)).tasks()
        let results = try tasks.map { try $0.run() }
        XCTAssertThrowsError(try QuantizedLayer.assemble([Array(results.dropLast())], expected: 7)) { error in
            XCTAssertEqual((error as? ExportError)?.description, "layer index 6 has no quantized result")
        }
        XCTAssertThrowsError(try QuantizedLayer.assemble([results, [results[2]]], expected: 7)) { error in
            XCTAssertTrue("\(error)".contains("quantized twice"), "\(error)")
        }
    }

    func testWidthsOutsideOneToSixteenAreRefused() throws {
        let graph = try ExampleModel.graph()
        var widths = Array(repeating: LayerWidths(weightBits: 4), count: 7)
        widths[3].weightBits = 17
        XCTAssertThrowsError(try ModelQuantizer(graph: graph, widths: widths)) { error in
            XCTAssertEqual((error as? ExportError)?.kind, .plan)
            XCTAssertTrue("\(error)".contains("outside 1...16"), "\(error)")
        }
        XCTAssertThrowsError(try ModelQuantizer(graph: graph, widths: Array(widths.prefix(6))))
    }

    func testOutputChannelAxisFollowsTheWeightLayout() throws {
        let graph = try ExampleModel.graph()
        let layers = graph.quantizableLayers
        XCTAssertEqual(layers.map { $0.outputChannelAxis(in: graph) }, [0, 0, 0, 0, 0, 0, 0])  // Convs and Gemm transB=1
        XCTAssertEqual(layers.last?.opType, "Gemm")
    }
}

extension QuantizedLayer {
    var bits: Int { weight.bits }
}
