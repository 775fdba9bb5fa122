import HutchModel
import HutchTensor
import XCTest
@testable import HutchAutodiff

/// The rules of the data-indexing ops (Range over the batch, And and comparisons, Where with a
/// data condition, Max, GatherND) one node at a time: forward against a direct computation,
/// tangent against central differences of the forward, and the transpose as the tangent's
/// adjoint, <J t, c> = <t, J^T c>, with two stacked blocks.
final class DataIndexingOpTests: XCTestCase {
    /// A graph of one node reading `inputs`, and the executor's calls into its rule.
    struct OneNode {
        let e: Executor<Double>
        let node: Node
        let x: [Stacked<Double>?]
        let batch: Int

        init(_ op: Op, _ inputs: [Tensor<Double>], batch: Int) throws {
            let values = inputs.indices.map { Value(name: "x\($0)") } + [Value(name: "y")]
            node = Node(name: "op", op: op, inputs: inputs.indices.map { ValueID($0) }, outputs: [ValueID(inputs.count)])
            e = try Executor<Double>(graph: Graph(values: values, nodes: [node], input: ValueID(0), output: ValueID(inputs.count),
                                                  initializers: [:]))
            x = inputs.map { Stacked($0) }
            self.batch = batch
        }

        var tape: Tape<Double> { Tape(values: [], batch: batch) }

        func forward(_ inputs: [Stacked<Double>?]? = nil) throws -> Stacked<Double> {
            var tape = self.tape
            return try e.forward(0, node, inputs ?? x, &tape)
        }

        func tangent(_ t: [Stacked<Double>?], k: Int) throws -> Stacked<Double>? {
            try e.tangent(0, node, x, try forward(), t, k: k, tape)
        }

        func transpose(_ cot: Stacked<Double>, need: [Bool]) throws -> [Stacked<Double>?] {
            try e.transpose(0, node, x, try forward(), cot, need: need, tape)
        }
    }

    func values(_ s: Stacked<Double>) -> [Double] { Array(UnsafeBufferPointer(start: s.pointer, count: s.count)) }

    func stacked(_ shape: [Int], blocks: Int, _ rng: inout TestRandom) -> Stacked<Double> {
        let s = Stacked<Double>(shape: shape, blocks: blocks)
        for i in 0..<s.count { s.pointer[i] = rng.uniform() }
        return s
    }

    /// Tangent vs central differences along each block, and <J t, c> = <t, J^T c>, for the inputs `linear`.
    func checkDerivatives(_ call: OneNode, linear: [Int], seed: UInt64, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = TestRandom(seed: seed)
        let k = 2
        var t = [Stacked<Double>?](repeating: nil, count: call.x.count)
        for i in linear { t[i] = stacked(call.x[i]!.shape, blocks: k, &rng) }
        let jt = try XCTUnwrap(try call.tangent(t, k: k), message, file: file, line: line)
        let y = try call.forward()
        XCTAssertEqual(jt.shape, y.shape, message, file: file, line: line)
        let h = 1e-6
        for j in 0..<k {
            func shifted(_ sign: Double) throws -> [Double] {
                let inputs: [Stacked<Double>?] = call.x.enumerated().map { i, x in
                    guard let ti = t[i] else { return x }
                    let moved = Stacked<Double>(shape: x!.shape)
                    for e in 0..<moved.count { moved.pointer[e] = x!.pointer[e] + sign * h * ti.block(j)[e] }
                    return moved
                }
                return values(try call.forward(inputs))
            }
            let (plus, minus) = (try shifted(1), try shifted(-1))
            for e in 0..<y.blockCount {
                XCTAssertEqual(jt.block(j)[e], (plus[e] - minus[e]) / (2 * h), accuracy: 1e-7, "\(message): tangent \(j) at \(e)", file: file, line: line)
            }
        }
        let cot = stacked(y.shape, blocks: k, &rng)
        let need = call.x.indices.map { linear.contains($0) }
        let back = try call.transpose(cot, need: need)
        for j in 0..<k {
            var left = 0.0, right = 0.0
            for e in 0..<y.blockCount { left += jt.block(j)[e] * cot.block(j)[e] }
            for i in linear {
                let xi = try XCTUnwrap(back[i], message, file: file, line: line)
                for e in 0..<xi.blockCount { right += t[i]!.block(j)[e] * xi.block(j)[e] }
            }
            XCTAssertEqual(left, right, accuracy: 1e-12 * max(1, abs(left)), "\(message): adjoint identity, block \(j)", file: file, line: line)
        }
    }

    func testBatchRangeCountsTheExamplesOfTheBatchRun() throws {
        let call = try OneNode(.batchRange, [], batch: 5)
        XCTAssertEqual(values(try call.forward()), [0, 1, 2, 3, 4])
        XCTAssertEqual(try call.forward().shape, [5])
        XCTAssertNil(try call.tangent([], k: 1))
    }

    func testDiscreteOpsBroadcastAndCarryNoDerivatives() throws {
        let a = Tensor<Double>(shape: [2, 3], data: [0, 1, 2, -1, 0, 3])
        let b = Tensor<Double>(shape: [1, 3], data: [1, 0, 2])
        let expected: [DiscreteOp: [Double]] = [
            .and: [0, 0, 1, 1, 0, 1], .or: [1, 1, 1, 1, 0, 1], .xor: [1, 1, 0, 0, 0, 0],
            .equal: [0, 0, 1, 0, 1, 0], .greater: [0, 1, 0, 0, 0, 1], .greaterOrEqual: [0, 1, 1, 0, 1, 1],
            .less: [1, 0, 0, 1, 0, 0], .lessOrEqual: [1, 0, 1, 1, 1, 0],
        ]
        for (op, want) in expected {
            let call = try OneNode(.discrete(op), [a, b], batch: 2)
            XCTAssertEqual(values(try call.forward()), want, "\(op)")
            XCTAssertEqual(try call.forward().shape, [2, 3])
            var rng = TestRandom(seed: 3)
            XCTAssertNil(try call.tangent([stacked([2, 3], blocks: 1, &rng), nil], k: 1), "\(op)")
            XCTAssertEqual(try call.transpose(stacked([2, 3], blocks: 1, &rng), need: [true, true]).compactMap { $0 }.count, 0, "\(op)")
        }
        let x = Tensor<Double>(shape: [4], data: [0, 2, -1.5, 2.7])
        XCTAssertEqual(values(try OneNode(.discrete(.not), [x], batch: 4).forward()), [1, 0, 0, 0])
        XCTAssertEqual(values(try OneNode(.discrete(.notZero), [x], batch: 4).forward()), [0, 1, 1, 1])
        XCTAssertEqual(values(try OneNode(.discrete(.truncate), [x], batch: 4).forward()), [0, 2, -1, 2])
    }

    func testSelectFollowsTheDataConditionAndRoutesAdjointsToTheChosenBranch() throws {
        var rng = TestRandom(seed: 7)
        let condition = Tensor<Double>(shape: [2, 1, 3], data: [1, 0, 1, 0, 0, 1])
        let x = rng.tensor([2, 4, 3]), y = rng.tensor([1, 4, 3])
        let call = try OneNode(.select, [condition, x, y], batch: 2)
        let out = values(try call.forward())
        for n in 0..<2 {
            for r in 0..<4 {
                for c in 0..<3 {
                    let chosen = condition.data[n * 3 + c] != 0 ? x.data[(n * 4 + r) * 3 + c] : y.data[r * 3 + c]
                    XCTAssertEqual(out[(n * 4 + r) * 3 + c], chosen)
                }
            }
        }
        try checkDerivatives(call, linear: [1, 2], seed: 8, "select")
        try checkDerivatives(call, linear: [2], seed: 9, "select, one branch")
        XCTAssertNil(try call.transpose(Stacked(shape: [2, 4, 3]), need: [true, true, true])[0], "the condition carries no derivative")
    }

    func testMaxFollowsTheLargestInput() throws {
        var rng = TestRandom(seed: 11)
        let a = rng.tensor([3, 4]), b = rng.tensor([1, 4]), c = rng.tensor([3, 1])
        let call = try OneNode(.max, [a, b, c], batch: 3)
        let out = values(try call.forward())
        for i in 0..<3 {
            for j in 0..<4 { XCTAssertEqual(out[i * 4 + j], Swift.max(a.data[i * 4 + j], b.data[j], c.data[i])) }
        }
        try checkDerivatives(call, linear: [0, 1, 2], seed: 12, "max")
    }

    /// PyTorch's torch.maximum: two tied inputs get half the gradient each; Hutch splits among k
    /// tied inputs equally, and the tangent is the same average.
    func testMaxSplitsTheDerivativeAmongTiedInputs() throws {
        let a = Tensor<Double>(shape: [3], data: [1, 2, 4]), b = Tensor<Double>(shape: [3], data: [1, 5, 4]),
            c = Tensor<Double>(shape: [3], data: [0, 5, 4])
        let call = try OneNode(.max, [a, b, c], batch: 3)
        let cot = Stacked<Double>(shape: [3])
        for i in 0..<3 { cot.pointer[i] = 6 }
        let back = try call.transpose(cot, need: [true, true, true]).map { values(try XCTUnwrap($0)) }
        XCTAssertEqual(back[0], [3, 0, 2])
        XCTAssertEqual(back[1], [3, 3, 2])
        XCTAssertEqual(back[2], [0, 3, 2])
        let t: [Stacked<Double>?] = [a, b, c].map { input in Stacked(Tensor(shape: [3], data: input.data.map { $0 * 10 })) }
        XCTAssertEqual(values(try XCTUnwrap(try call.tangent(t, k: 1))), [10, 50, 40])
    }

    /// batch_dims 0 over a flattened batch, as as_strided reads it: each example's tuples pick
    /// rows of its own example (negative indices count from the end).
    func testGatherNDReadsEachExamplesOwnRows() throws {
        var rng = TestRandom(seed: 13)
        let data = rng.tensor([6, 2])   // 3 examples of 2 rows each
        let indices = Tensor<Double>(shape: [3, 2, 1], data: [1, 0, 3, 2, -1, 4])
        let call = try OneNode(.gatherND(batchDims: 0), [data, indices], batch: 3)
        let out = try call.forward()
        XCTAssertEqual(out.shape, [3, 2, 2])
        let rows = [1, 0, 3, 2, 5, 4]
        XCTAssertEqual(values(out), rows.flatMap { [data.data[$0 * 2], data.data[$0 * 2 + 1]] })
        try checkDerivatives(call, linear: [0], seed: 14, "gatherND batch_dims 0")
        XCTAssertNil(try call.transpose(out, need: [true, true])[1], "the indices carry no derivative")
        // a tuple of example 1 that reads example 0's row is refused, naming the node
        let crossing = try OneNode(.gatherND(batchDims: 0), [data, Tensor(shape: [3, 2, 1], data: [1, 0, 1, 2, 5, 4])], batch: 3)
        XCTAssertThrowsError(try crossing.forward()) { error in
            XCTAssertTrue("\(error)".contains("node 'op' (GatherND): example 1 reads row 1 of example 0"), "\(error)")
        }
        let outside = try OneNode(.gatherND(batchDims: 0), [data, Tensor(shape: [3, 2, 1], data: [1, 0, 3, 2, 5, 6])], batch: 3)
        XCTAssertThrowsError(try outside.forward()) { XCTAssertTrue("\($0)".contains("outside axis 0"), "\($0)") }
    }

    /// batch_dims 1 with a constant [1, ...] of index pairs shared by every example (repeated
    /// pairs add up in the transpose).
    func testGatherNDWithSharedIndexTuples() throws {
        var rng = TestRandom(seed: 15)
        let data = rng.tensor([2, 3, 4, 2])
        let indices = Tensor<Double>(shape: [1, 3, 2], data: [0, 1, 2, 3, 0, 1])
        let call = try OneNode(.gatherND(batchDims: 1), [data, indices], batch: 2)
        let out = values(try call.forward())
        XCTAssertEqual(try call.forward().shape, [2, 3, 2])
        for n in 0..<2 {
            for (t, (i, j)) in [(0, 1), (2, 3), (0, 1)].enumerated() {
                for s in 0..<2 { XCTAssertEqual(out[(n * 3 + t) * 2 + s], data.data[((n * 3 + i) * 4 + j) * 2 + s]) }
            }
        }
        try checkDerivatives(call, linear: [0], seed: 16, "gatherND batch_dims 1")
    }
}
