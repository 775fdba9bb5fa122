import HutchCluster
import HutchSensitivity
import XCTest

/// The kinded one-line errors share one mechanism (HutchErrors.OneLineError) yet stay apart:
/// each keeps its own `Kind`, prints its message alone, and is not caught as another.
final class OneLineErrorTests: XCTestCase {
    func testEachErrorTypeKeepsItsKindsAndPrintsItsMessage() {
        let kind: SecurityError.Kind = .keyFile
        let error: Error = SecurityError(kind, "k.key: cannot read the key file")
        XCTAssertEqual("\(error)", "k.key: cannot read the key file")
        XCTAssertEqual((error as? SecurityError)?.kind, .keyFile)
        XCTAssertNil(error as? SensitivityError, "a SecurityError is not caught as a SensitivityError")
        XCTAssertEqual((SensitivityError(.invalidJob, "--samples 0") as Error as? SensitivityError)?.kind, SensitivityError.Kind.invalidJob)
    }
}
