import HutchTensor
import XCTest

final class OdometerTests: XCTestCase {
    func testWalksRowMajorAndHandlesScalarsAndEmptyShapes() {
        XCTAssertEqual(Array(Odometer([2, 3])), [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]])
        XCTAssertEqual(Array(Odometer([])), [[]], "a scalar has one coordinate")
        XCTAssertEqual(Array(Odometer([0, 2])), [], "no coordinates when a dimension is 0")
        XCTAssertEqual(Odometer.strides(of: [2, 3, 4]), [12, 4, 1])
        XCTAssertEqual(Odometer.offset([1, 2, 3], strides: [12, 4, 1]), 23)
    }
}
