import Foundation
import HutchFineTune
import HutchModel
import XCTest

/// `Graph.fineTuningBlocks` found from the graph's residual joins, on real exports.
final class FineTuningBlocksTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The blocks as node names, for assertions that do not depend on the export's node order.
    func namedBlocks(_ path: String) throws -> [[String]] {
        let graph = try ONNXLoader.load(contentsOf: Self.root.appendingPathComponent(path))
        let layers = graph.quantizableLayers
        let blocks = graph.fineTuningBlocks
        XCTAssertEqual(blocks.flatMap { $0 }.sorted(), Array(layers.indices), "a partition of the layers")
        return blocks.map { $0.map { layers[$0].nodeName } }
    }

    func testResidualNetsHaveTheirTwoResidualBlocksAndTheRestAlone() throws {
        // block1's identity shortcut has no layer; block2's 1x1 shortcut joins its branch (and is
        // tied to c2). resnet_small has a max pool in block1's branch and its shortcut after c2.
        let expected: [[String]] = [
            ["/stem/conv/Conv"],
            ["/block1/c1/conv/Conv", "/block1/c2/conv/Conv"],
            ["/block2/c1/conv/Conv", "/block2/c2/conv/Conv", "/block2/shortcut/conv/Conv"],
            ["/fc/Gemm"],
        ]
        for path in ["Examples/digits_resnet.onnx", "Tests/Fixtures/resnet_small.onnx"] {
            let blocks = try namedBlocks(path)
            XCTAssertEqual(blocks.map { $0.sorted() }, expected, path)
        }
    }

    func testNetworkWithoutResidualJoinsHasOneBlockPerLayer() throws {
        // mlp.onnx adds a constant bias to x @ W: an Add, but not a join of two data paths.
        let blocks = try namedBlocks("Tests/Fixtures/mlp.onnx")
        XCTAssertEqual(blocks.count, 3)
        XCTAssertTrue(blocks.allSatisfy { $0.count == 1 })
    }

    func testTransformerBlocksAreTheAttentionAndTheMLPBranches() throws {
        // Position embedding and LayerNorm Adds are not joins with layers on their branches.
        XCTAssertEqual(try namedBlocks("Tests/Fixtures/tiny_vit.onnx"), [
            ["/patch/Conv"], ["/qkv/MatMul", "/proj/MatMul"], ["/fc1/MatMul", "/fc2/MatMul"], ["/head/Gemm"],
        ])
    }
}
