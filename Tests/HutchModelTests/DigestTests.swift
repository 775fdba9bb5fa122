import XCTest
import HutchModel

final class DigestTests: XCTestCase {
    func testSHA256OfKnownStrings() {
        // FIPS 180-2 test vectors.
        XCTAssertEqual(Digest.sha256(Array("abc".utf8)),
                       "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.sha256([UInt8]()),
                       "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
