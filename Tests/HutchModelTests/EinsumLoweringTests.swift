import XCTest
@testable import HutchModel

/// Einsum as a batched product (GraphBuilder+Einsum): the nodes it becomes, and a clear refusal
/// of the equations it does not take. Its values against PyTorch: PyTorchFixtureTests'
/// tiny_einsum and tiny_einsum_dynamo.
final class EinsumLoweringTests: XCTestCase {
    /// Einsum(x [N, 2, 3, 4], w) -> e -> Flatten -> y (logits), w a constant of shape `weight` or
    /// (nil) a second input like x
    private func load(_ equation: String, weight: [Int64]? = nil) throws -> Graph {
        let count = Int(weight?.reduce(1, *) ?? 0)
        let bytes = makeModel(nodes: [TestNode("Einsum", "e", ["x", "w"], ["e"], [.string("equation", equation)]),
                                      TestNode("Flatten", "f", ["e"], ["y"])],
                              initializers: weight.map { [.floats("w", $0, (0..<count).map { Float($0) })] } ?? [],
                              inputShape: [nil, 2, 3, 4], extraInputs: weight == nil ? ["w"] : [])
        return try ONNXLoader.load(bytes: bytes, source: "m.onnx")
    }

    func testEquationsSplitIntoBatchContractedAndFreeIndices() throws {
        let spaced = try XCTUnwrap(GraphBuilder.EinsumEquation("B G H I D, B G H J D -> B G H I J"))
        XCTAssertEqual(spaced.a, Array("BGHID"))
        let roles = try XCTUnwrap(spaced.roles())
        XCTAssertEqual(roles.batch, Array("BGH"))
        XCTAssertEqual([roles.freeA, roles.contracted, roles.freeB], Array("IDJ"))
        XCTAssertEqual(GraphBuilder.EinsumEquation("bij,bjk->bki")?.roles()?.batch, ["b"])
        for refused in ["bij->bji", "bij,bjk,bkl->bil", "...ij,...jk->...ik", "bii,bij->bj", "bij,bjk->bk", "bijl,bjk->bik",
                        "bij,bjk->bikz", "bi,bi->b"] {
            XCTAssertNil(GraphBuilder.EinsumEquation(refused)?.roles(), refused)
        }
    }

    /// The ops the Einsum became (its nodes are named after it) and its output's shape.
    private func lowered(_ graph: Graph) -> (ops: [Op], shape: [Int?]?) {
        (graph.nodes.filter { $0.name == "e" || $0.name.hasPrefix("e/") }.map(\.op), graph.values.first { $0.name == "e" }?.shape)
    }

    func testAProductLoadsAsTransposesAndMatMul() throws {
        // attention's q k^T: the second operand is transposed, the product is in the output's order
        let product = lowered(try load("nhid,nhjd->nhij"))
        XCTAssertEqual(product.ops, [.transpose(perm: [0, 1, 3, 2]), .matMul])
        XCTAssertEqual(product.shape, [nil, 2, 3, 3])
        // the output in another order: one more transpose
        let reordered = lowered(try load("nhid,nhjd->njhi"))
        XCTAssertEqual(reordered.ops, [.transpose(perm: [0, 1, 3, 2]), .matMul, .transpose(perm: [0, 3, 1, 2])])
        XCTAssertEqual(reordered.shape, [nil, 3, 2, 3])
        // a constant operand whose batch index has size 1 broadcasts, as MatMul's does
        let constant = lowered(try load("nhid,nhjd->nhij", weight: [1, 2, 5, 4]))
        XCTAssertEqual(constant.ops, [.transpose(perm: [0, 1, 3, 2]), .matMul])
        XCTAssertEqual(constant.shape, [nil, 2, 3, 5])
    }

    func testOtherEquationsAreRefusedByName() {
        for (equation, weight) in [("nhid,nhjd->nhj", [Int64(1), 2, 5, 4]), ("nhid,nhid->nh", [1, 2, 3, 4]), ("nhid,nhjd->nhije", [1, 2, 5, 4]),
                                   ("nhid,hjd->nhij", [2, 5, 4])] {
            XCTAssertThrowsError(try load(equation, weight: weight), equation) { error in
                let message = (error as? ModelError)?.description ?? "\(error)"
                XCTAssertTrue(message.contains("node 'e' (Einsum): equation '\(equation)'"), message)
                XCTAssertTrue(message.contains("batched product of two inputs"), message)
            }
        }
    }
}
