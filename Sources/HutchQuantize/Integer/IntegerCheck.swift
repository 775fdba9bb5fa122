import HutchAutodiff
import HutchModel
import HutchTensor

/// Runs the integer network and the QDQ model (Hutch's fake-quantized forward, which onnxruntime
/// reproduces) on the same examples and explains every difference. Both form codes at the same
/// points; where an example's codes first differ, both read identical codes upstream, so a
/// difference is explained only if the two values before rounding are within the program's
/// bound (bias, Clip and rescaling roundings, `WideScales.bounds`) plus `allowance` of each
/// other with a rounding boundary between them. Everything after that point is its consequence.
public enum IntegerCheck {
    /// 2^-10 LSB on top of the bound, for what it leaves out: the QDQ model's float32 sums
    /// (~1e-6 relative) and the dyadic multipliers' error (< 2^-31 relative).
    public static let allowance = 0x1p-10

    public static func run(model: QuantizedModel, inputs: Tensor<Float>, labels: [Int], batchSize: Int = 64) throws -> IntegerCheckReport {
        try run(IntegerProgram(model: model, exampleShape: Array(inputs.shape.dropFirst())), model: model,
                inputs: inputs, labels: labels, batchSize: batchSize)
    }

    static func run(_ program: IntegerProgram, model: QuantizedModel, inputs: Tensor<Float>, labels: [Int],
                    batchSize: Int) throws -> IntegerCheckReport {
        let qdq = try Executor<Float>(graph: model.fakeQuantizedGraph())
        var tally = Tally(program.points.count)
        let n = inputs.shape.first ?? 0, per = n == 0 ? 0 : inputs.count / n
        for start in stride(from: 0, to: n, by: max(1, batchSize)) {
            let end = min(n, start + max(1, batchSize))
            let batch = Tensor(shape: [end - start] + inputs.shape.dropFirst(), data: Array(inputs.data[start * per..<end * per]))
            let integer = try program.run(batch, unrounded: true)
            let reference = try qdq.values(program.points.map(\.value), input: batch)
            for i in 0..<(end - start) {
                tally.compare(example: start + i, local: i, program: program, integer: integer, reference: reference,
                              label: start + i < labels.count ? labels[start + i] : nil)
            }
        }
        return tally.report(program: program, examples: n)
    }
}

/// The running comparison behind `IntegerCheck.run`.
struct Tally {
    var codes: [Int], differing: [Int]
    var agree = 0, integerCorrect = 0, qdqCorrect = 0, examplesWithDifferences = 0
    var maxLogit = 0
    var maxGap = 0.0, maxExcess = -Double.infinity
    var differences: [IntegerCheckReport.Difference] = []
    var firstDifferences = 0, unexplainedCodes = 0
    /// Every unexplained difference is listed, explained ones up to this many.
    static let listedExplained = 100
    var disagreements: [IntegerCheckReport.Disagreement] = []

    init(_ points: Int) {
        codes = Array(repeating: 0, count: points)
        differing = Array(repeating: 0, count: points)
    }

    mutating func compare(example: Int, local i: Int, program: IntegerProgram, integer: IntegerRun,
                          reference: [Tensor<Float>], label: Int?) {
        var firstPoint: String?
        var qdqLogits: [Float] = [], logitCodes: [Int32] = []
        for (p, point) in program.points.enumerated() {
            var differsHere = false
            let q = point.quantization, per = integer.codes[p].perExample
            let mine = integer.codes[p].data[i * per..<(i + 1) * per]
            let floats = reference[p].data[i * per..<(i + 1) * per]
            let unrounded = integer.unrounded[p][i * per..<(i + 1) * per]
            codes[p] += per
            for (k, (code, x)) in zip(mine, floats).enumerated() {
                let theirs = q.grid.quantize(x, q.parameters)
                let u = Double(x / q.parameters.scale) + Double(q.parameters.zeroPoint)
                let v = unrounded[unrounded.startIndex + k]
                let bound = point.bound(ofElement: k)
                if firstPoint == nil { (maxGap, maxExcess) = (max(maxGap, abs(u - v)), max(maxExcess, abs(u - v) - bound)) }
                if p == program.points.count - 1 { maxLogit = max(maxLogit, Int(abs(code - theirs))) }
                guard code != theirs else { continue }
                differing[p] += 1
                guard firstPoint == nil else { continue }
                differsHere = true
                firstDifferences += 1
                let explained = Self.isBoundary(u, v, theirs, code, bound: bound)
                unexplainedCodes += explained ? 0 : 1
                if !explained || differences.count - unexplainedCodes < Self.listedExplained {
                    differences.append(.init(example: example, point: q.name, element: k, qdqCode: theirs, integerCode: code,
                                             qdqUnrounded: u, integerUnrounded: v, boundLsb: bound, explained: explained))
                }
            }
            if firstPoint == nil, differsHere { firstPoint = q.name }
            if p == program.points.count - 1 { (qdqLogits, logitCodes) = (Array(floats), Array(mine)) }
        }
        if firstPoint != nil { examplesWithDifferences += 1 }
        let mine = Self.argmax(logitCodes), theirs = Self.argmax(qdqLogits)
        if let label { integerCorrect += mine == label ? 1 : 0; qdqCorrect += theirs == label ? 1 : 0 }
        if mine == theirs { agree += 1; return }
        let cause: String
        if let firstPoint { cause = "rounding boundary at \(firstPoint)" }
        else if logitCodes[theirs] == logitCodes[mine] { cause = "tie in the logit codes" }
        else { cause = "unexplained" }
        disagreements.append(.init(example: example, integerClass: mine, qdqClass: theirs, cause: cause))
    }

    /// Codes one apart, values before rounding within the bound, a boundary k + 1/2 between them.
    static func isBoundary(_ u: Double, _ v: Double, _ a: Int32, _ b: Int32, bound: Double) -> Bool {
        guard abs(a - b) == 1, abs(u - v) <= bound + IntegerCheck.allowance else { return false }
        let boundary = Double(min(a, b)) + 0.5
        return min(u, v) <= boundary && boundary <= max(u, v)
    }

    static func argmax<T: Comparable>(_ row: [T]) -> Int {
        row.indices.reduce(0) { row[$1] > row[$0] ? $1 : $0 }
    }

    func report(program: IntegerProgram, examples n: Int) -> IntegerCheckReport {
        let unexplained = unexplainedCodes + disagreements.filter { $0.cause == "unexplained" }.count
        let points = program.points.enumerated().map { p, point in
            IntegerCheckReport.Point(name: point.quantization.name, bits: point.quantization.bits,
                                     scale: point.quantization.parameters.scale, zeroPoint: point.quantization.parameters.zeroPoint,
                                     codes: codes[p], differing: differing[p])
        }
        let share = { (count: Int) in n == 0 ? 0 : Double(count) / Double(n) }
        return IntegerCheckReport(examples: n, argmaxAgreement: share(agree), integerAccuracy: share(integerCorrect),
                                  qdqAccuracy: share(qdqCorrect), maxLogitDifferenceLsb: maxLogit,
                                  examplesWithDifferences: examplesWithDifferences, firstDifferences: firstDifferences, unexplained: unexplained,
                                  allowanceLsb: IntegerCheck.allowance, maxUnroundedGapLsb: maxGap,
                                  maxExcessOverBoundLsb: maxExcess.isFinite ? maxExcess : 0, points: points,
                                  differences: differences, disagreements: disagreements)
    }
}
