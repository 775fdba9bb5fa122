import Foundation
import HutchTensor

/// Σ_i of the softmax cross-entropy of logits row i against label i (Protocols/README.md, "Loss"),
/// in Double, example after example: the measured objective's per-batch sums, and times 1/N the
/// mean loss `hutch quantize` and the report print. NaN for a label outside the classes.
public enum CrossEntropySum {
    public static func of(_ logits: Tensor<Float>, _ labels: [Int]) -> Double {
        let classes = logits.shape.count == 2 ? logits.shape[1] : 0
        guard logits.shape.first == labels.count else { return .nan }
        var total = 0.0
        for (i, label) in labels.enumerated() {
            guard (0..<classes).contains(label) else { return .nan }
            let row = (0..<classes).map { Double(logits.data[i * classes + $0]) }
            let top = row.max() ?? 0
            total += top + Foundation.log(row.reduce(0) { $0 + exp($1 - top) }) - row[label]
        }
        return total
    }
}
