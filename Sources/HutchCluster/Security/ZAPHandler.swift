import Foundation

/// A ZAP handler (ZeroMQ RFC 27) for one context: a REP socket bound to inproc://zeromq.zap.01 on
/// its own thread. libzmq asks it about every new connection to a CURVE server socket of that
/// context; it admits CURVE clients whose public key is authorized (user id: the key's name)
/// and refuses everything else, logging each refusal with the key and the peer's address.
/// Start it before the server socket binds (libzmq admits every CURVE client when no handler is
/// bound) and stop it after that socket closed.
public final class ZAPHandler: Sendable {
    public static let endpoint = "inproc://zeromq.zap.01"
    public typealias Log = @Sendable (String) -> Void

    let service: Service

    /// Binds the handler's socket in `context` and starts answering. Throws if the bind fails
    /// (e.g. another handler already serves this context).
    public init(context: ZMQContext, authorized: AuthorizedKeys, log: @escaping Log) throws(ZMQError) {
        service = Service(authorized: authorized, log: log)
        if let error = service.start(context) { throw error }
    }

    deinit { service.stop() }

    /// Also logs the connections to `socket` that fail before ZAP is asked (plaintext clients,
    /// clients with the wrong coordinator key). Call on the socket's thread, before its bind.
    public func watchHandshakes(of socket: ZMQSocket) throws(ZMQError) {
        let endpoint = "inproc://hutch-handshakes-\(UInt64.random(in: 0...UInt64.max))"
        try socket.startMonitor(endpoint, events: HandshakeMonitor.events)
        let connected = DispatchSemaphore(value: 0)
        service.lock.lock()
        service.monitorEndpoints.append((endpoint, connected))
        service.lock.unlock()
        // events before the thread's end is connected are lost: wait for it (one poll tick)
        _ = connected.wait(timeout: .now() + 2)
    }

    /// Stops the thread and closes the socket; waits for both. Idempotent.
    public func stop() { service.stop() }

    /// Connections refused so far.
    public var denials: Int { service.count { $0.denials } }
    /// Connections admitted so far.
    public var admissions: Int { service.count { $0.admissions } }

    /// The thread's state; everything mutable is under `lock`.
    final class Service: @unchecked Sendable {
        let authorized: AuthorizedKeys
        let log: Log
        let lock = NSLock()
        var stopping = false
        var running = false
        var denials = 0
        var admissions = 0
        /// Per refusal text: when it was last logged and how many like it were not logged since.
        /// A refused client reconnects again and again; one line per 10 s and text is enough.
        var quiet: [String: (lastMs: UInt64, suppressed: Int)] = [:]
        /// Monitor endpoints the thread has still to connect to.
        var monitorEndpoints: [(String, DispatchSemaphore)] = []
        let finished = DispatchSemaphore(value: 0)

        init(authorized: AuthorizedKeys, log: @escaping Log) {
            self.authorized = authorized
            self.log = log
        }

        /// Counts a refusal and logs it, rate-limited per text.
        func refuse(_ line: String) {
            let now = MonotonicClock.nowMs
            lock.lock()
            denials += 1
            var entry = quiet[line] ?? (lastMs: 0, suppressed: 0)
            let emit = entry.lastMs == 0 || now >= entry.lastMs + 10_000
            let suppressed = entry.suppressed
            if emit { entry = (now, 0) } else { entry.suppressed += 1 }
            if quiet.count > 1000 { quiet.removeAll() }
            quiet[line] = entry
            lock.unlock()
            if emit { log(suppressed > 0 ? "\(line) (and \(suppressed) more like it in the last seconds)" : line) }
        }

        func count(_ read: (Service) -> Int) -> Int {
            lock.lock(); defer { lock.unlock() }
            return read(self)
        }

        /// Starts the thread and waits until its socket is bound; returns the bind's error.
        func start(_ context: ZMQContext) -> ZMQError? {
            let ready = DispatchSemaphore(value: 0)
            let failure = Box()
            let thread = Thread { [self] in
                let socket: ZMQSocket
                do throws(ZMQError) {
                    socket = try ZMQSocket(context, type: .rep)
                    try socket.bind(ZAPHandler.endpoint)
                } catch {
                    failure.error = error
                    ready.signal()
                    return
                }
                ready.signal()
                serve(socket, context)
                socket.close()
                finished.signal()
            }
            thread.name = "hutch-zap"
            thread.start()
            ready.wait()
            if failure.error == nil {
                lock.lock(); running = true; lock.unlock()
            }
            return failure.error
        }

        func stop() {
            lock.lock()
            let wasRunning = running
            stopping = true
            running = false
            lock.unlock()
            if wasRunning { finished.wait() }
        }

        var isStopping: Bool {
            lock.lock(); defer { lock.unlock() }
            return stopping
        }

        /// Answers requests until stopped. A REP socket must answer every request it received,
        /// so even an unreadable one gets a 400.
        func serve(_ socket: ZMQSocket, _ context: ZMQContext) {
            var monitors: [ZMQSocket] = []
            defer { for monitor in monitors { monitor.close() } }
            while !isStopping {
                do throws(ZMQError) {
                    lock.lock()
                    let endpoints = monitorEndpoints
                    monitorEndpoints.removeAll()
                    lock.unlock()
                    for (endpoint, connected) in endpoints {
                        defer { connected.signal() }
                        let monitor = try ZMQSocket(context, type: .pair)
                        try monitor.connect(endpoint)
                        monitors.append(monitor)
                    }
                    let ready = try ZMQPoller.poll([(socket, .readable)] + monitors.map { ($0, .readable) }, timeoutMs: 100)
                    for (monitor, events) in zip(monitors, ready.dropFirst()) where events.contains(.readable) {
                        if let event = try monitor.receive(maxFrames: 4, dontWait: true), let line = HandshakeMonitor.describe(event) {
                            refuse(line)
                        }
                    }
                    guard ready[0].contains(.readable), let request = try socket.receive(maxFrames: 16, dontWait: true) else { continue }
                    try socket.send(answer(request))
                } catch where error.kind == .tooManyFrames {
                    _ = try? socket.send(ZAPReply(requestID: [], status: .badRequest, text: "malformed ZAP request").frames)
                } catch {
                    if error.kind == .terminated || error.kind == .closed { return }
                    log("ZAP handler: \(error)")
                    usleep(100_000)
                }
            }
        }

        func answer(_ frames: [[UInt8]]) -> [[UInt8]] {
            guard let request = ZAPRequest(frames) else {
                return ZAPReply(requestID: frames.count > 1 ? frames[1] : [], status: .badRequest,
                                text: "malformed ZAP request").frames
            }
            let verdict = authorize(request)
            if verdict.status == .ok {
                lock.lock(); admissions += 1; lock.unlock()
            }
            return verdict.frames
        }

        /// Only CURVE with an authorized key passes.
        func authorize(_ request: ZAPRequest) -> ZAPReply {
            let peer = request.address.isEmpty ? "an unknown address" : request.address
            guard request.mechanism == "CURVE" else {
                refuse("refused a \(request.mechanism.isEmpty ? "?" : request.mechanism) (unencrypted or unsupported) connection from \(peer): only CURVE clients with an authorized key may connect")
                return ZAPReply(requestID: request.requestID, status: .badRequest, text: "CURVE required")
            }
            guard request.credentials.count == 1, let key = try? CurveKey(bytes: request.credentials[0]) else {
                refuse("refused a CURVE connection from \(peer): no 32-byte client key in the ZAP request")
                return ZAPReply(requestID: request.requestID, status: .badRequest, text: "malformed CURVE credentials")
            }
            guard let name = authorized.name(of: key) else {
                refuse("refused CURVE key \(key.z85) from \(peer): not in the authorized keys")
                return ZAPReply(requestID: request.requestID, status: .badRequest, text: "key not authorized")
            }
            return ZAPReply(requestID: request.requestID, status: .ok, text: "OK", userID: name)
        }
    }

    final class Box: @unchecked Sendable {
        var error: ZMQError?
    }
}

/// A ZAP request (RFC 27): version, request id, domain, address, identity, mechanism, credentials.
struct ZAPRequest {
    var requestID: [UInt8]
    var domain: String
    var address: String
    var identity: [UInt8]
    var mechanism: String
    var credentials: [[UInt8]]

    init?(_ frames: [[UInt8]]) {
        guard frames.count >= 6, frames[0] == Array("1.0".utf8) else { return nil }
        requestID = frames[1]
        domain = String(decoding: frames[2], as: UTF8.self)
        address = String(decoding: frames[3].prefix(100), as: UTF8.self)
        identity = frames[4]
        mechanism = String(decoding: frames[5].prefix(20), as: UTF8.self)
        credentials = Array(frames.dropFirst(6))
    }
}

/// A ZAP reply: version, request id, status code, status text, user id, metadata (empty).
struct ZAPReply {
    enum Status: String { case ok = "200", badRequest = "400" }
    var requestID: [UInt8]
    var status: Status
    var text: String
    var userID = ""

    var frames: [[UInt8]] {
        [Array("1.0".utf8), requestID, Array(status.rawValue.utf8), Array(text.utf8), Array(userID.utf8), []]
    }
}
