import HutchTensor
import XCTest
@testable import HutchQuantize

final class FakeQuantizerTests: XCTestCase {
    func testActivationFakeQuantizationSnapsToTheGridAndSaturates() throws {
        let fq = try FakeQuantizer(activationRange: ActivationRange(min: 0, max: 2.55), bits: 8)
        XCTAssertEqual(fq.parameters.zeroPoint, 0)
        let x = Tensor<Float>(shape: [2, 3], data: [0, 0.004, 0.016, 1.0, 3.0, -1.0])
        let y = fq(x)
        let s = fq.parameters.scale
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertEqual(y.data, [0, 0, 2 * s, Float(Float(1.0 / s).rounded(.toNearestOrEven)) * s, 255 * s, 0])
        XCTAssertEqual(fq(y), y)  // idempotent: grid points stay put
    }

    func testSignedRangeKeepsZeroExact() throws {
        let fq = try FakeQuantizer(activationRange: ActivationRange(min: -0.7, max: 1.9), bits: 4)
        XCTAssertEqual(fq(Tensor(shape: [1], data: [0])).data, [0])
        XCTAssertThrowsError(try FakeQuantizer(activationRange: ActivationRange(min: 0, max: 1), bits: 17))
    }
}
