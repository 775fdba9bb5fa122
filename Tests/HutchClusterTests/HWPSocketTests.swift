import CZeroMQ
import XCTest
import HutchCluster
import HutchWire

/// The protocol-level helpers: configured sockets, message send/receive, malformed input reported.
final class HWPSocketTests: XCTestCase {
    private let timeout = 5000

    func testHandshakeOverLoopbackTCP() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket.coordinatorRouter(context, bind: "tcp://127.0.0.1:*")
        let worker = try ZMQSocket.workerDealer(context, connect: try router.lastEndpoint, instance: 0xABCD)
        let hello = Hello(capabilities: [.sensitivity, .quantize], instance: 0xABCD, name: "w1", threads: 2, credit: 3)
        XCTAssertTrue(try worker.send(.hello(hello)))

        guard case .message(let peer, .hello(let got))? = try router.receiveHWP(timeoutMs: timeout) else {
            return XCTFail("no HELLO")
        }
        XCTAssertEqual(got, hello)
        XCTAssertEqual(peer, ZMQSocket.workerRoutingID(instance: 0xABCD))

        let digest = try XCTUnwrap(WireDigest(bytes: Array(repeating: 7, count: 32)))
        let welcome = WireMessage.welcome(Welcome(job: digest, epoch: 1, maxCredit: 8))
        XCTAssertTrue(try router.send(welcome, to: peer))
        XCTAssertEqual(try worker.receiveHWP(timeoutMs: timeout), .message(peer: [], welcome))
    }

    /// ZMTP heartbeats abort libzmq 4.3.4 under a flood (RouterFloodSoakTests): both factories
    /// leave them off and turn TCP keepalive on instead.
    func testSocketsUseTCPKeepaliveNotZMTPHeartbeats() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket.coordinatorRouter(context, bind: "tcp://127.0.0.1:*")
        let worker = try ZMQSocket.workerDealer(context, connect: try router.lastEndpoint, instance: 3)
        for socket in [router, worker] {
            XCTAssertEqual(try socket.intOption(ZMQ_HEARTBEAT_IVL, "ZMQ_HEARTBEAT_IVL"), 0)
            XCTAssertEqual(try socket.intOption(ZMQ_HEARTBEAT_TIMEOUT, "ZMQ_HEARTBEAT_TIMEOUT"), -1)
            XCTAssertEqual(try socket.intOption(ZMQ_TCP_KEEPALIVE, "ZMQ_TCP_KEEPALIVE"), 1)
            XCTAssertEqual(try socket.intOption(ZMQ_TCP_KEEPALIVE_IDLE, "ZMQ_TCP_KEEPALIVE_IDLE"), 10)
        }
    }

    func testMalformedInputIsReportedWithThePeer() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket.coordinatorRouter(context, bind: "inproc://hwp-malformed")
        let raw = try ZMQSocket(context, type: .dealer)
        try raw.setRoutingID(Array("raw".utf8))
        try raw.connect("inproc://hwp-malformed")

        try raw.send([Array("GET / HTTP/1.1".utf8)])
        XCTAssertEqual(try router.receiveHWP(timeoutMs: timeout), .malformed(peer: Array("raw".utf8), .badSignature))

        try raw.send(Array(repeating: [1], count: 20))
        XCTAssertEqual(try router.receiveHWP(timeoutMs: timeout),
                       .malformed(peer: Array("raw".utf8), .tooManyFrames(count: 20, limit: WireLimits.maxFrames)))

        try raw.send(WireCodec.encode(.heartbeat) + [[]])
        XCTAssertEqual(try router.receiveHWP(timeoutMs: timeout),
                       .malformed(peer: Array("raw".utf8), .extraFrames(.heartbeat, count: 1)))

        // Still serving afterwards.
        try raw.send(.heartbeat)
        XCTAssertEqual(try router.receiveHWP(timeoutMs: timeout), .message(peer: Array("raw".utf8), .heartbeat))
        XCTAssertNil(try router.receiveHWP(timeoutMs: 50))
        keepAlive(raw)
    }

    func testSendingToADepartedWorkerFailsTyped() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket.coordinatorRouter(context, bind: "inproc://hwp-departed")
        XCTAssertThrowsError(try router.send(.heartbeat, to: ZMQSocket.workerRoutingID(instance: 1))) { error in
            XCTAssertEqual((error as? ZMQError)?.kind, .hostUnreachable)
        }
        XCTAssertThrowsError(try router.send(.credit(Credit(credit: 0)), to: [1])) { error in
            XCTAssertNotNil(error as? WireError)
        }
    }

    /// A worker that reconnects with the same routing id (new socket) takes over its identity.
    func testRouterHandoverRoutesToTheReconnectedWorker() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket.coordinatorRouter(context, bind: "tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint
        let first = try ZMQSocket.workerDealer(context, connect: endpoint, instance: 9)
        try first.send(.heartbeat)
        guard case .message(let peer, _)? = try router.receiveHWP(timeoutMs: timeout) else { return XCTFail("no message") }

        let second = try ZMQSocket.workerDealer(context, connect: endpoint, instance: 9)
        try second.send(.statusRequest)
        XCTAssertEqual(try router.receiveHWP(timeoutMs: timeout), .message(peer: peer, .statusRequest))
        try router.send(.heartbeat, to: peer)
        XCTAssertEqual(try second.receiveHWP(timeoutMs: timeout), .message(peer: [], .heartbeat))
        XCTAssertNil(try first.receiveHWP(timeoutMs: 100))
        keepAlive(first, second)
    }

    /// The configured ROUTER takes a frame of exactly WireLimits.maxFrameBytes and drops a peer
    /// that sends one byte more.
    func testCoordinatorRouterEnforcesTheProtocolFrameLimit() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket.coordinatorRouter(context, bind: "tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint
        let hostile = try ZMQSocket.workerDealer(context, connect: endpoint, instance: 1)
        try hostile.send([Array(repeating: 0, count: WireLimits.maxFrameBytes + 1)])
        let largest = try ZMQSocket.workerDealer(context, connect: endpoint, instance: 2)
        try largest.send([Array(repeating: 0, count: WireLimits.maxFrameBytes)])
        let received = try XCTUnwrap(try router.receive(timeoutMs: timeout))
        XCTAssertEqual(received[0], ZMQSocket.workerRoutingID(instance: 2))
        XCTAssertEqual(received[1].count, WireLimits.maxFrameBytes)
        XCTAssertNil(try router.receive(timeoutMs: 300))
        keepAlive(hostile, largest)
    }
}
