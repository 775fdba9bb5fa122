import XCTest
import HutchCluster

final class AuthorizedKeysTests: XCTestCase {
    func testParsesKeysNamesCommentsAndPubLines() throws {
        let a = try CurveKeyPair.generate().publicKey, b = try CurveKeyPair.generate().publicKey
        let text = """
            # workers of the lab
            \(a.z85)   gpu-node 1

              \(b.z85)
            """
        let keys = try AuthorizedKeys.parse(text, source: "auth")
        XCTAssertEqual(keys.names.count, 2)
        XCTAssertEqual(keys.name(of: a), "gpu-node 1")
        XCTAssertEqual(keys.name(of: b), b.z85, "no name: the key is its own name")
        XCTAssertNil(keys.name(of: try CurveKeyPair.generate().publicKey))
    }

    func testEveryBadLineIsReportedWithItsNumber() throws {
        let a = try CurveKeyPair.generate().publicKey
        let text = "\(a.z85) one\nshort-key two\n# fine\n\(a.z85) again\n\(String(a.z85.dropLast()))~ x\n"
        XCTAssertThrowsError(try AuthorizedKeys.parse(text, source: "keys.txt")) { error in
            let message = "\(error)"
            XCTAssertEqual((error as? SecurityError)?.kind, .authorizedKeys)
            XCTAssertTrue(message.contains("keys.txt:2: 'short-key' is not a CURVE public key"), message)
            XCTAssertTrue(message.contains("keys.txt:4: the same key as line 1"), message)
            XCTAssertTrue(message.contains("keys.txt:5: "), message)
            XCTAssertFalse(message.contains("keys.txt:1:") || message.contains("keys.txt:3:"), message)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)")
        }
    }

    func testAFileWithoutKeysIsRefused() {
        XCTAssertThrowsError(try AuthorizedKeys.parse("# nobody yet\n\n", source: "empty")) {
            XCTAssertTrue("\($0)".contains("empty: no keys"), "\($0)")
        }
    }
}
