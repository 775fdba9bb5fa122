import Foundation
import XCTest
import HutchCluster

/// CURVE ROUTER with the ZAP handler over tcp loopback: only authorized CURVE clients get through.
final class ZAPHandlerTests: XCTestCase {
    final class Lines: @unchecked Sendable {
        let lock = NSLock()
        var lines: [String] = []
        func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    }

    struct Server {
        let context: ZMQContext
        let zap: ZAPHandler
        let router: ZMQSocket
        let endpoint: String
        let serverKeys: CurveKeyPair
    }

    func server(authorizing names: [CurveKey: String], log: Lines) throws -> Server {
        let context = try ZMQContext()
        let serverKeys = try CurveKeyPair.generate()
        let zap = try ZAPHandler(context: context, authorized: AuthorizedKeys(names)) { log.append($0) }
        let router = try ZMQSocket(context, type: .router)
        try zap.watchHandshakes(of: router)
        try router.makeCurveServer(CurveServerConfig(keyPair: serverKeys, authorized: AuthorizedKeys(names)))
        try router.bind("tcp://127.0.0.1:*")
        return Server(context: context, zap: zap, router: router, endpoint: try router.lastEndpoint, serverKeys: serverKeys)
    }

    func client(_ context: ZMQContext, _ endpoint: String, keys: CurveKeyPair?, serverKey: CurveKey, id: String) throws -> ZMQSocket {
        let dealer = try ZMQSocket(context, type: .dealer)
        try dealer.setRoutingID(Array(id.utf8))
        if let keys { try dealer.makeCurveClient(CurveClientConfig(keyPair: keys, serverKey: serverKey)) }
        try dealer.connect(endpoint)
        return dealer
    }

    func testAuthorizedCurveClientTalksBothWays() throws {
        let log = Lines()
        let worker = try CurveKeyPair.generate()
        let s = try server(authorizing: [worker.publicKey: "w1"], log: log)
        let clients = try ZMQContext()
        let dealer = try client(clients, s.endpoint, keys: worker, serverKey: s.serverKeys.publicKey, id: "good")
        try dealer.send([[1, 2, 3]])
        let received = try XCTUnwrap(try s.router.receive(timeoutMs: 5000), "the authorized client's message")
        XCTAssertEqual(received, [Array("good".utf8), [1, 2, 3]])
        XCTAssertEqual(s.router.lastUserID, "w1", "the ZAP user id is the key's name")
        try s.router.send([Array("good".utf8), [4]])
        XCTAssertEqual(try dealer.receive(timeoutMs: 5000), [[4]])
        XCTAssertEqual(s.zap.admissions, 1)
        XCTAssertEqual(s.zap.denials, 0)
        XCTAssertTrue(log.all.isEmpty, "\(log.all)")
        s.router.close()
        s.zap.stop()
    }

    /// An unknown key, a client that has the wrong server key, and a plaintext (NULL) client get
    /// nothing through, while an authorized client still does; the refusals are logged.
    func testUnauthorizedAndPlaintextClientsAreRefusedAndLogged() throws {
        let log = Lines()
        let worker = try CurveKeyPair.generate(), stranger = try CurveKeyPair.generate()
        let s = try server(authorizing: [worker.publicKey: "w1"], log: log)
        let clients = try ZMQContext()
        let intruder = try client(clients, s.endpoint, keys: stranger, serverKey: s.serverKeys.publicKey, id: "intruder")
        let plaintext = try client(clients, s.endpoint, keys: nil, serverKey: s.serverKeys.publicKey, id: "plain")
        try intruder.send([Array("let me in".utf8)], dontWait: true)
        try plaintext.send([Array("hello?".utf8)], dontWait: true)
        let honest = try client(clients, s.endpoint, keys: worker, serverKey: s.serverKeys.publicKey, id: "honest")
        try honest.send([[7]])
        var received: [[[UInt8]]] = []
        while let frames = try s.router.receive(timeoutMs: 1500) { received.append(frames) }
        XCTAssertEqual(received, [[Array("honest".utf8), [7]]], "only the authorized client's message arrives")
        XCTAssertTrue(log.all.contains { $0.contains("refused CURVE key \(stranger.publicKey.z85) from 127.0.0.1") }, "\(log.all)")
        XCTAssertTrue(log.all.contains { $0.contains("refused a connection on \(s.endpoint): ") }, "the plaintext client is logged: \(log.all)")
        XCTAssertGreaterThanOrEqual(s.zap.denials, 2, "both refused (they may retry)")
        XCTAssertEqual(s.zap.admissions, 1)
        keepAlive(intruder, plaintext, honest)
        s.router.close()
        s.zap.stop()
    }

    /// A refused worker comes back again and again (a new socket after each silent liveness
    /// window): every attempt is counted, but logged once per 10 s.
    func testRepeatedRefusalsAreCountedButLoggedOnce() throws {
        let log = Lines()
        let stranger = try CurveKeyPair.generate()
        let s = try server(authorizing: [try CurveKeyPair.generate().publicKey: "w"], log: log)
        let clients = try ZMQContext()
        for attempt in 1...4 {
            let intruder = try client(clients, s.endpoint, keys: stranger, serverKey: s.serverKeys.publicKey, id: "x\(attempt)")
            let deadline = Date().addingTimeInterval(5)
            while s.zap.denials < attempt && Date() < deadline { usleep(10_000) }
            intruder.close()
        }
        XCTAssertEqual(s.zap.denials, 4)
        XCTAssertEqual(log.all.filter { $0.contains(stranger.publicKey.z85) }.count, 1, "\(log.all)")
        XCTAssertNil(try s.router.receive(timeoutMs: 100))
        s.router.close()
        s.zap.stop()
    }

    func testStopIsCleanAndASecondHandlerCanBindAfterwards() throws {
        let context = try ZMQContext()
        let keys = AuthorizedKeys([try CurveKeyPair.generate().publicKey: "w"])
        let first = try ZAPHandler(context: context, authorized: keys) { _ in }
        XCTAssertThrowsError(try ZAPHandler(context: context, authorized: keys) { _ in }) {
            XCTAssertEqual(($0 as? ZMQError)?.kind, .addressInUse, "\($0)")
        }
        first.stop()
        first.stop()
        // libzmq releases an inproc name when its reaper thread has closed the socket: soon after
        var second: ZAPHandler?
        for _ in 0..<50 where second == nil {
            second = try? ZAPHandler(context: context, authorized: keys) { _ in }
            if second == nil { usleep(20_000) }
        }
        XCTAssertNotNil(second, "the endpoint is free again after stop")
        second?.stop()
    }
}
