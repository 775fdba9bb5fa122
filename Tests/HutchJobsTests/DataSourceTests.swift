import Foundation
import HutchClusterCore
@testable import HutchJobs
import HutchModel
import XCTest

/// The one data loader: which flags name which source, what is loaded, and its digest.
final class DataSourceTests: JobsTestCase {
    /// The example's arrays as X.npy and Y.npy in the test directory.
    func writeNPY() throws -> (x: String, y: String) {
        let arrays = try NumPyArchive.readNPZ(contentsOf: URL(fileURLWithPath: repository("Examples/digits.npz")))
        try NumPyArchive.writeNPY(try XCTUnwrap(arrays["x"]), to: URL(fileURLWithPath: path("x.npy")))
        try NumPyArchive.writeNPY(try XCTUnwrap(arrays["y"]), to: URL(fileURLWithPath: path("y.npy")))
        return (path("x.npy"), path("y.npy"))
    }

    func testTheFlagsNameOneSourceOrNone() throws {
        XCTAssertNil(try DataSource(data: nil, inputs: nil, labels: nil))
        XCTAssertEqual(try DataSource(data: "d.npz", inputs: nil, labels: nil), .npz("d.npz"))
        XCTAssertEqual(try DataSource(data: nil, inputs: "x.npy", labels: "y.npy"), .npy(inputs: "x.npy", labels: "y.npy"))
        assertFails(.usage, "not both") { try DataSource(data: "d.npz", inputs: "x.npy", labels: "y.npy") }
        assertFails(.usage, "not both") { try DataSource(data: "d.npz", inputs: nil, labels: "y.npy") }
        assertFails(.usage, "--inputs and --labels go together") { try DataSource(data: nil, inputs: "x.npy", labels: nil) }
        assertFails(.usage, "--inputs and --labels go together") { try DataSource(data: nil, inputs: nil, labels: "y.npy") }
    }

    func testLogLinesNameTheFilesInDigestOrder() {
        XCTAssertEqual(DataSource.npz("d.npz").paths, ["d.npz"])
        XCTAssertEqual(DataSource.npy(inputs: "x.npy", labels: "y.npy").paths, ["x.npy", "y.npy"])
        XCTAssertEqual(DataSource.npy(inputs: "x.npy", labels: "y.npy").description, "x.npy + y.npy")
        XCTAssertEqual(DataSource.npz("d.npz").description, "d.npz")
    }

    func testTheNPYFilesLoadTheNPZsArraysAndDigestBothFilesInputsFirst() throws {
        let npzPath = repository("Examples/digits.npz")
        let (fromNPZ, npzDigest) = try DataSource.npz(npzPath).load()
        XCTAssertEqual(npzDigest, Digest.sha256(try bytes(npzPath)))

        let (x, y) = try writeNPY()
        let (fromNPY, npyDigest) = try DataSource.npy(inputs: x, labels: y).load()
        XCTAssertEqual(npyDigest, Digest.sha256(try bytes(x) + bytes(y)))
        XCTAssertEqual(fromNPY.labels, fromNPZ.labels)
        XCTAssertEqual(fromNPY.inputs.shape, fromNPZ.inputs.shape)
        XCTAssertEqual(fromNPY.inputs.data, fromNPZ.inputs.data)
    }

    func testAWorkerLoadsFromTheBytesItIsGiven() throws {
        let (x, y) = try writeNPY()
        let given = ["/nowhere/x.npy": try bytes(x), "/nowhere/y.npy": try bytes(y)]
        var asked: [String] = []
        let dataset = try DataSource.npy(inputs: "/nowhere/x.npy", labels: "/nowhere/y.npy").dataset { path, what in
            asked.append(what)
            return try XCTUnwrap(given[path])
        }
        XCTAssertEqual(asked, ["inputs", "labels"])
        XCTAssertEqual(dataset.count, 450)
    }

    func testAMissingFileIsAnIOErrorNamingIt() {
        assertFails(.io, "cannot read data '\(path("missing.npz"))'") { try DataSource.npz(path("missing.npz")).load() }
        assertFails(.io, "cannot read inputs") { try DataSource.npy(inputs: path("x.npy"), labels: path("y.npy")).load() }
    }

    func testAClusterTaskNamesItsDataAsTheFlagsDo() {
        XCTAssertEqual(DataSource(ModelSource(modelPath: "/m.onnx", dataNPZ: "/d.npz")), .npz("/d.npz"))
        XCTAssertEqual(DataSource(ModelSource(modelPath: "/m.onnx", inputsNPY: "/x.npy", labelsNPY: "/y.npy")),
                       .npy(inputs: "/x.npy", labels: "/y.npy"))
        XCTAssertNil(DataSource(ModelSource(modelPath: "/m.onnx", inputsNPY: "/x.npy")))
        XCTAssertNil(DataSource(ModelSource(modelPath: "/m.onnx")))
    }
}
