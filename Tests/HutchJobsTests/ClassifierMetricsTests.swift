import Foundation
@testable import HutchJobs
import HutchTensor
import XCTest

/// Accuracy and mean cross-entropy of logits, as `hutch quantize` logs them and the report shows them.
final class ClassifierMetricsTests: XCTestCase {
    func testAccuracyCountsTheArgmaxAgainstTheLabel() {
        let logits = Tensor<Float>(shape: [3, 2], data: [2, 0, 0, 2, 1, 3])
        XCTAssertEqual(ClassifierMetrics.accuracy(logits, [0, 1, 0]), 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(ClassifierMetrics.accuracy(logits, [1, 0, 0]), 0)
    }

    func testLossIsTheMeanSoftmaxCrossEntropy() {
        let logits = Tensor<Float>(shape: [2, 2], data: [2, 0, 0, 2])
        XCTAssertEqual(ClassifierMetrics.loss(logits, [0, 1]), log(1 + exp(-2.0)), accuracy: 1e-12)
        XCTAssertEqual(ClassifierMetrics.loss(logits, [1, 1]), (log(1 + exp(2.0)) + log(1 + exp(-2.0))) / 2, accuracy: 1e-12)
    }
}
