import HutchClusterCore

/// Watches a worker DEALER's link with a socket monitor and keeps what it saw in a
/// `LinkObservation`. Create it before the DEALER connects (events before that are lost); use it
/// on the DEALER's thread only.
final class LinkMonitor {
    let events: ZMQSocket
    var seen: LinkObservation

    init(_ context: ZMQContext, watching socket: ZMQSocket, seen: LinkObservation) throws(ZMQError) {
        let endpoint = "inproc://hutch-link-\(UInt64.random(in: 0...UInt64.max))"
        try socket.startMonitor(endpoint, events: LinkObservation.events)
        events = try ZMQSocket(context, type: .pair)
        try events.connect(endpoint)
        self.seen = seen
    }

    /// Records every event waiting (never blocks).
    func drain() {
        while let frames = try? events.receive(maxFrames: 2, dontWait: true) {
            if let event = MonitorEvent(frames: frames) { seen.record(event) }
        }
    }

    func close() { events.close() }
}
