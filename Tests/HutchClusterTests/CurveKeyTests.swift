import Foundation
import XCTest
import HutchCluster

/// Z85, CURVE keys and key files.
final class CurveKeyTests: XCTestCase {
    /// RFC 32/Z85's test vector.
    func testZ85MatchesTheRFCVector() throws {
        let bytes: [UInt8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]
        XCTAssertEqual(try Z85.encode(bytes), "HelloWorld")
        XCTAssertEqual(try Z85.decode("HelloWorld"), bytes)
    }

    func testZ85RefusesBadInputTyped() {
        XCTAssertThrowsError(try Z85.encode([1, 2, 3])) { XCTAssertEqual(($0 as? SecurityError)?.kind, .invalidKey) }
        XCTAssertThrowsError(try Z85.decode("Hell")) { XCTAssertTrue("\($0)".contains("multiple of 5"), "\($0)") }
        XCTAssertThrowsError(try Z85.decode("Hello Worl")) { XCTAssertTrue("\($0)".contains("character 6"), "\($0)") }
        // "#####" is 84·(85⁴+…+1) > 2³² − 1
        XCTAssertThrowsError(try Z85.decode("#####")) { XCTAssertTrue("\($0)".contains("out of range"), "\($0)") }
    }

    /// The test keys of zmq_curve(7): hex and Z85 agree, and the public key derives from the secret.
    func testCurveTestVectorsFromTheManual() throws {
        let clientPublic = try CurveKey(z85: "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID")
        XCTAssertEqual(hex(clientPublic.bytes), "BB88471D65E2659B30C55A5321CEBB5AAB2B70A398645C26DCA2B2FCB43FC518")
        let serverSecret = try CurveKey(z85: "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6")
        XCTAssertEqual(hex(serverSecret.bytes), "8E0BDD697628B91D8F245587EE95C5B04D48963F79259877B49CD9063AEAD3B7")
        XCTAssertEqual(try CurveKeyPair(secretKey: serverSecret).publicKey.z85, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")
        let clientSecret = try CurveKey(z85: "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs")
        XCTAssertEqual(try CurveKeyPair(secretKey: clientSecret).publicKey, clientPublic)
    }

    func testGeneratedPairsAreFreshAndConsistent() throws {
        let a = try CurveKeyPair.generate(), b = try CurveKeyPair.generate()
        XCTAssertNotEqual(a.secretKey, b.secretKey)
        XCTAssertEqual(try CurveKeyPair(secretKey: a.secretKey), a)
        XCTAssertEqual(try CurveKey(z85: a.publicKey.z85), a.publicKey)
        XCTAssertThrowsError(try CurveKey(z85: String(a.publicKey.z85.dropLast()))) { XCTAssertTrue("\($0)".contains("40 Z85"), "\($0)") }
        XCTAssertThrowsError(try CurveKey(bytes: [1, 2])) { XCTAssertEqual(($0 as? SecurityError)?.kind, .invalidKey) }
    }

    func testKeyFilesRoundTripWithPrivateSecretAndNoOverwrite() throws {
        let directory = try temporaryDirectory()
        let prefix = directory.appendingPathComponent("w1").path
        let pair = try CurveKeyPair.generate()
        try KeyFile.write(pair, prefix: prefix, overwrite: false)
        let attributes = try FileManager.default.attributesOfItem(atPath: prefix + ".key")
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual(try String(contentsOfFile: prefix + ".key", encoding: .utf8), pair.secretKey.z85 + "\n")
        XCTAssertEqual(try String(contentsOfFile: prefix + ".pub", encoding: .utf8), pair.publicKey.z85 + " w1\n")
        XCTAssertEqual(try KeyFile.readSecret(prefix + ".key"), pair)
        XCTAssertEqual(try KeyFile.readPublic(prefix + ".pub"), pair.publicKey)
        // never replaced without asking; the old keys stay
        XCTAssertThrowsError(try KeyFile.write(try CurveKeyPair.generate(), prefix: prefix, overwrite: false)) {
            XCTAssertTrue("\($0)".contains("--force"), "\($0)")
        }
        XCTAssertEqual(try KeyFile.readSecret(prefix + ".key"), pair)
        let other = try CurveKeyPair.generate()
        try KeyFile.write(other, prefix: prefix, overwrite: true)
        XCTAssertEqual(try KeyFile.readSecret(prefix + ".key"), other)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["w1.key", "w1.pub"],
                       "no temporary file is left behind")
    }

    func testSecretKeyFileReadableByOthersIsRefused() throws {
        let directory = try temporaryDirectory()
        let prefix = directory.appendingPathComponent("c").path
        try KeyFile.write(try CurveKeyPair.generate(), prefix: prefix, overwrite: false)
        chmod(prefix + ".key", 0o644)
        XCTAssertThrowsError(try KeyFile.readSecret(prefix + ".key")) { error in
            XCTAssertEqual((error as? SecurityError)?.kind, .insecurePermissions)
            XCTAssertTrue("\(error)".contains("chmod 600"), "\(error)")
        }
        // group read: only on a root-owned file (a Kubernetes Secret mounted with fsGroup, 0440)
        chmod(prefix + ".key", 0o440)
        if getuid() == 0 {
            XCTAssertNoThrow(try KeyFile.readSecret(prefix + ".key"), "root-owned 0440")
            XCTAssertEqual(chown(prefix + ".key", 65534, 65534), 0)
        }
        XCTAssertThrowsError(try KeyFile.readSecret(prefix + ".key"), "group-readable, not owned by root") { error in
            XCTAssertEqual((error as? SecurityError)?.kind, .insecurePermissions)
        }
        chmod(prefix + ".key", 0o460)
        if getuid() == 0 { XCTAssertEqual(chown(prefix + ".key", 0, 0), 0) }
        XCTAssertThrowsError(try KeyFile.readSecret(prefix + ".key"), "group-writable") { error in
            XCTAssertEqual((error as? SecurityError)?.kind, .insecurePermissions)
        }
        // the .pub given where the .key belongs: refused, and the message says so
        XCTAssertThrowsError(try KeyFile.readSecret(prefix + ".pub")) { XCTAssertTrue("\($0)".contains(".pub"), "\($0)") }
    }

    func testMalformedKeyFilesNameTheFile() throws {
        let directory = try temporaryDirectory()
        let path = directory.appendingPathComponent("bad.key").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("not a key\n".utf8), attributes: [.posixPermissions: 0o600]))
        XCTAssertThrowsError(try KeyFile.readSecret(path)) { error in
            XCTAssertEqual((error as? SecurityError)?.kind, .invalidKey)
            XCTAssertTrue("\(error)".hasPrefix(path + ":"), "\(error)")
        }
        let twoLines = directory.appendingPathComponent("two.pub").path
        let key = try CurveKeyPair.generate().publicKey.z85
        XCTAssertTrue(FileManager.default.createFile(atPath: twoLines, contents: Data("\(key)\n\(key)\n".utf8)))
        XCTAssertThrowsError(try KeyFile.readPublic(twoLines)) { XCTAssertTrue("\($0)".contains("more than one line"), "\($0)") }
        let secret = directory.appendingPathComponent("pair").path
        try KeyFile.write(try CurveKeyPair.generate(), prefix: secret, overwrite: false)
        XCTAssertThrowsError(try KeyFile.readPublic(secret + ".key")) { XCTAssertTrue("\($0)".contains("give the public key"), "\($0)") }
        XCTAssertThrowsError(try KeyFile.readPublic(directory.appendingPathComponent("missing.pub").path)) {
            XCTAssertEqual(($0 as? SecurityError)?.kind, .keyFile)
        }
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hutch-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02X", $0) }.joined() }
}
