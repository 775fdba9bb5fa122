import Foundation
import HutchSensitivity
import HutchTensor

/// Accuracy and loss of a classifier's logits against the labels (`hutch quantize --data`, the report).
enum ClassifierMetrics {
    static func accuracy(_ logits: Tensor<Float>, _ labels: [Int]) -> Double {
        let classes = logits.shape[1]
        var correct = 0
        for (i, label) in labels.enumerated() {
            let row = logits.data[(i * classes)..<((i + 1) * classes)]
            if let best = row.indices.max(by: { row[$0] < row[$1] }), best - i * classes == label { correct += 1 }
        }
        return Double(correct) / Double(max(1, labels.count))
    }

    /// Mean softmax cross-entropy (Protocols/README.md, "Loss"), in Double.
    static func loss(_ logits: Tensor<Float>, _ labels: [Int]) -> Double {
        CrossEntropySum.of(logits, labels) / Double(max(1, labels.count))
    }
}
