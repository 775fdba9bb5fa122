import Foundation
import HutchClusterCore
@testable import HutchJobs
import XCTest

/// The model and data of a trace or cluster job: as given, or the embedded example.
final class JobInputsTests: JobsTestCase {
    func testAModelNeedsItsData() {
        assertFails(.usage, "--model needs calibration data") { try JobInputs.locate(model: "m.onnx", data: nil) }
        XCTAssertEqual(try JobInputs.locate(model: "m.onnx", data: .npz("d.npz")).data, .npz("d.npz"))
    }

    func testWithoutAModelTheEmbeddedExampleIsUsedAndItsDataHasNoDigest() throws {
        let example = try JobInputs.locate(model: nil, data: nil)
        XCTAssertTrue(example.model.hasSuffix("Examples/digits_resnet.onnx"), example.model)
        XCTAssertEqual(example.data.paths.map { URL(fileURLWithPath: $0).lastPathComponent }, ["digits.npz"])
        XCTAssertTrue(example.embeddedData)
        let (dataset, digest) = try example.loadData()
        XCTAssertEqual(dataset.count, 450)
        XCTAssertNil(digest, "sensitivity.json records the embedded example's data without a digest")
    }

    func testOtherDataOnTheExampleModelIsDigested() throws {
        let inputs = try JobInputs.locate(model: nil, data: .npz(repository("Examples/digits.npz")))
        XCTAssertFalse(inputs.embeddedData)
        XCTAssertNotNil(try inputs.loadData().digest)
    }
}
