import Foundation
import XCTest
import HutchCluster
import HutchWire

/// ZeroMQ transport on inproc and tcp://127.0.0.1 only. Every receive has a timeout.
final class TransportTests: XCTestCase {
    private let timeout = 5000

    private func pair(_ context: ZMQContext, _ endpoint: String, id: [UInt8]? = nil) throws -> (ZMQSocket, ZMQSocket) {
        let router = try ZMQSocket(context, type: .router)
        try router.bind(endpoint)
        let dealer = try ZMQSocket(context, type: .dealer)
        if let id { try dealer.setRoutingID(id) }
        try dealer.connect(try router.lastEndpoint)
        return (router, dealer)
    }

    func testInprocMultipartRoundTrip() throws {
        let context = try ZMQContext()
        let (router, dealer) = try pair(context, "inproc://round-trip", id: Array("w1".utf8))
        XCTAssertTrue(try dealer.send([[1, 2], [], [3]]))
        let received = try XCTUnwrap(try router.receive(timeoutMs: timeout))
        XCTAssertEqual(received, [Array("w1".utf8), [1, 2], [], [3]])
        XCTAssertTrue(try router.send([Array("w1".utf8), [9], Array(repeating: 7, count: 100_000)]))
        let reply = try XCTUnwrap(try dealer.receive(timeoutMs: timeout))
        XCTAssertEqual(reply.count, 2)
        XCTAssertEqual(reply[0], [9])
        XCTAssertEqual(reply[1].count, 100_000)
    }

    func testTCPOnAnyPortCarriesCodecMessages() throws {
        let context = try ZMQContext()
        let (router, dealer) = try pair(context, "tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:"), endpoint)
        XCTAssertNotEqual(endpoint, "tcp://127.0.0.1:0")
        let hello = WireMessage.hello(Hello(capabilities: [.sensitivity], instance: 5, name: "w", threads: 1, credit: 2))
        try dealer.send(try WireCodec.encode(hello))
        let frames = try XCTUnwrap(try router.receive(timeoutMs: timeout, maxFrames: WireLimits.maxFrames + 1))
        XCTAssertEqual(try WireCodec.decode(Array(frames.dropFirst())), hello)
        // Reply through the routing id the ROUTER assigned.
        try router.send([frames[0]] + (try WireCodec.encode(.heartbeat)))
        let reply = try XCTUnwrap(try dealer.receive(timeoutMs: timeout))
        XCTAssertEqual(try WireCodec.decode(reply), .heartbeat)
    }

    func testMaxMessageSizeDropsOversizePeerAndKeepsServingOthers() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, type: .router)
        try router.setMaxMessageSize(1024)
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint
        let hostile = try ZMQSocket(context, type: .dealer)
        try hostile.setRoutingID(Array("bad".utf8))
        try hostile.connect(endpoint)
        try hostile.send([Array(repeating: 1, count: 4096)])
        let honest = try ZMQSocket(context, type: .dealer)
        try honest.setRoutingID(Array("good".utf8))
        try honest.connect(endpoint)
        // The limit applies per frame: two frames of exactly the limit pass.
        try honest.send([Array(repeating: 2, count: 1024), Array(repeating: 3, count: 1024)])
        let received = try XCTUnwrap(try router.receive(timeoutMs: timeout))
        XCTAssertEqual(received[0], Array("good".utf8))
        XCTAssertEqual(received.dropFirst().map(\.count), [1024, 1024])
        XCTAssertNil(try router.receive(timeoutMs: 300), "the oversize frame must never be delivered")
        keepAlive(hostile, honest)
    }

    func testRouterMandatoryToUnknownPeerFailsTyped() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, type: .router)
        try router.setRouterMandatory(true)
        try router.bind("inproc://mandatory")
        XCTAssertThrowsError(try router.send([Array("nobody".utf8), [1]])) { error in
            XCTAssertEqual((error as? ZMQError)?.kind, .hostUnreachable, "\(error)")
            XCTAssertFalse("\(error)".isEmpty)
        }
    }

    func testPollTimesOutWithNothingReady() throws {
        let context = try ZMQContext()
        let (router, dealer) = try pair(context, "inproc://poll")
        let start = ContinuousClock.now
        let ready = try ZMQPoller.poll([(router, .readable), (dealer, .readable)], timeoutMs: 150)
        let elapsed = ContinuousClock.now - start
        XCTAssertEqual(ready, [[], []])
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(140))
        XCTAssertNil(try router.receive(dontWait: true))
        // And a ready socket is reported as such, the other not.
        try dealer.send([[1]])
        let after = try ZMQPoller.poll([(router, .readable), (dealer, .readable)], timeoutMs: timeout)
        XCTAssertEqual(after, [.readable, []])
    }

    func testDealerConnectingBeforeBindGetsThroughAfterBind() throws {
        let context = try ZMQContext()
        // Find a free loopback port, then release it. The probe gets its own context, whose
        // termination waits until the listener is really closed (zmq_close alone is asynchronous,
        // and a dealer connecting to the dying listener would lose its message with it).
        let endpoint: String = try {
            let probe = try ZMQSocket(try ZMQContext(), type: .router)
            try probe.bind("tcp://127.0.0.1:*")
            return try probe.lastEndpoint
        }()

        let dealer = try ZMQSocket(context, type: .dealer)
        try dealer.setReconnect(interval: 50, maximum: 200)
        try dealer.connect(endpoint)
        XCTAssertTrue(try dealer.send([Array("early".utf8)]))
        XCTAssertNil(try dealer.receive(timeoutMs: 200))

        let router = try ZMQSocket(context, type: .router)
        try router.bind(endpoint)
        let received = try XCTUnwrap(try router.receive(timeoutMs: timeout))
        XCTAssertEqual(received.last, Array("early".utf8))
        keepAlive(dealer)
    }

    func testTooManyFramesAreDrainedWithATypedError() throws {
        let context = try ZMQContext()
        let (router, dealer) = try pair(context, "inproc://frames")
        try dealer.send(Array(repeating: [0xAB], count: 20))
        try dealer.send([[1]])
        XCTAssertEqual(try ZMQPoller.poll([(router, .readable)], timeoutMs: timeout), [.readable])
        XCTAssertThrowsError(try router.receive(maxFrames: 5, dontWait: true)) { error in
            XCTAssertEqual((error as? ZMQError)?.kind, .tooManyFrames)
        }
        let next = try XCTUnwrap(try router.receive(timeoutMs: timeout, maxFrames: 5))
        XCTAssertEqual(next.last, [1])
        keepAlive(dealer)
    }

    func testBadArgumentsAndClosedSockets() throws {
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .dealer)
        XCTAssertThrowsError(try socket.setCurveSecretKey([1, 2, 3])) { XCTAssertEqual(($0 as? ZMQError)?.kind, .invalidArgument) }
        XCTAssertThrowsError(try socket.setRoutingID([0, 1])) { XCTAssertEqual(($0 as? ZMQError)?.kind, .invalidArgument) }
        XCTAssertThrowsError(try socket.send([])) { XCTAssertEqual(($0 as? ZMQError)?.kind, .invalidArgument) }
        XCTAssertThrowsError(try socket.connect("nonsense://x")) { XCTAssertFalse(($0 as? ZMQError)?.message.isEmpty ?? true) }
        try socket.setTCPKeepalive(idleSeconds: 10, intervalSeconds: 5, count: 3)
        try socket.setSendHighWaterMark(100)
        try socket.setReceiveHighWaterMark(100)
        try socket.setCurveServerKey(Array(repeating: 1, count: 32))
        socket.close()
        XCTAssertThrowsError(try socket.send([[1]])) { XCTAssertEqual(($0 as? ZMQError)?.kind, .closed) }
    }

    func testBindingAPortInUseFailsTyped() throws {
        let context = try ZMQContext()
        let first = try ZMQSocket(context, type: .router)
        try first.bind("tcp://127.0.0.1:*")
        let second = try ZMQSocket(context, type: .router)
        XCTAssertThrowsError(try second.bind(try first.lastEndpoint)) { XCTAssertEqual(($0 as? ZMQError)?.kind, .addressInUse) }
    }

    func testContextSocketLimitIsEnforcedWithATypedError() throws {
        let context = try ZMQContext(maxSockets: 2)
        let first = try ZMQSocket(context, type: .dealer)
        let second = try ZMQSocket(context, type: .dealer)
        XCTAssertThrowsError(try ZMQSocket(context, type: .dealer)) { error in
            XCTAssertEqual((error as? ZMQError)?.operation, "zmq_socket")
        }
        keepAlive(first, second)
        XCTAssertThrowsError(try ZMQContext(ioThreads: -1)) { XCTAssertEqual(($0 as? ZMQError)?.kind, .invalidArgument) }
    }
}

/// The context crosses threads (Sendable), sockets do not: another thread makes its own PAIR end
/// and wakes the socket thread's poll.
final class TransportThreadTests: XCTestCase {
    func testAnotherThreadWakesThePollThroughAnInprocPair() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, type: .router)
        try router.bind("inproc://wake-router")
        let wake = try ZMQSocket(context, type: .pair)
        try wake.bind("inproc://wake")

        let done = expectation(description: "sender finished")
        let thread = Thread {
            do {
                let end = try ZMQSocket(context, type: .pair)
                try end.connect("inproc://wake")
                try end.send([Array("result ready".utf8)])
                // Wait for the acknowledgement so the message is not dropped by an early close.
                _ = try end.receive(timeoutMs: 5000)
            } catch {
                XCTFail("\(error)")
            }
            done.fulfill()
        }
        thread.start()
        let ready = try ZMQPoller.poll([(router, .readable), (wake, .readable)], timeoutMs: 5000)
        XCTAssertEqual(ready, [[], .readable])
        XCTAssertEqual(try wake.receive(dontWait: true), [Array("result ready".utf8)])
        try wake.send([[1]])
        wait(for: [done], timeout: 10)
    }
}
