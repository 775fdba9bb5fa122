import Foundation
@testable import HutchJobs
import XCTest

/// A job's outputs are written all or nothing.
final class StagedOutputsTests: JobsTestCase {
    func testAllOutputsAppearTogether() throws {
        try writeAllOrNothing([(path("a"), Data("a".utf8)), (path("b"), Data("b".utf8))])
        XCTAssertEqual(try bytes(path("a")), Array("a".utf8))
        XCTAssertEqual(try bytes(path("b")), Array("b".utf8))
    }

    func testAnUnwritableOutputLeavesNoOtherOutputAndNoTemporary() throws {
        assertFails(.io, "missing/b") {
            try writeAllOrNothing([(path("a"), Data("a".utf8)), (path("missing/b"), Data("b".utf8))])
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }
}
