import Foundation
import HutchModel
import HutchTensor

/// Releasing the tape values a reverse sweep never reads. A probe chunk peaks when its reverse
/// sweep starts, with every forward value still on the tape, though the reverse sweep reads only
/// what the rules declare (`OpRule.reverseReads`: the other operand of a bilinear op, ReLU's
/// output, Sigmoid's output, ...). The tangent sweep replaces each other value by its shape
/// (`Stacked.released()`) once it has read it for the last time; nothing computed changes.
extension Executor {
    /// Per value, whether the tangent sweep may release it: whether the reverse sweep from `need`
    /// (with `quadratic`'s convolutions) reads no more of it than its shape. Never the parameters
    /// (the chunks share them, so a slot freed would free nothing) nor the output (the loss
    /// head's logits). nil when releasing is off.
    func releasableTapeValues(_ tape: Tape<Scalar>, need: [Bool], quadratic: QuadraticForms<Scalar>? = nil) -> [Bool]? {
        guard releasesUnreadTapeValues else { return nil }
        var read = Array(repeating: false, count: graph.values.count)
        read[graph.output.index] = true
        for id in parameters.keys { read[id.index] = true }
        for (i, node) in graph.nodes.enumerated() where need[node.outputs[0].index] {
            let needIn = adjointsWanted(node, need, quadratic)
            if let quadratic, isQuadraticConv(node, quadratic), !quadratic.keepsTerm(tape.geometry[i]!) {
                read[node.inputs[0]!.index] = true   // the reverse sweep recomputes conv(x, V) from x
            }
            if isQuadraticProduct(node, quadratic) { read[node.inputs[0]!.index] = true }   // and f(x, V)
            guard needIn.contains(true) else { continue }
            let reads = node.op.rule.reverseReads(need: needIn)
            for (v, r) in zip(node.inputs, reads.inputs) where r {
                if let v { read[v.index] = true }
            }
            if reads.output { read[node.outputs[0].index] = true }
        }
        return read.map { !$0 }
    }
}

let keepsTapeByEnvironment = ProcessInfo.processInfo.environment["HUTCH_KEEP_TAPE"] == "1"
