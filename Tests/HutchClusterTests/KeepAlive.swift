import HutchCluster

/// Keeps sockets open until this point. Swift may release an object after its last use, and a
/// socket closed (LINGER 0) right after a send would drop the message the test waits for.
func keepAlive(_ sockets: ZMQSocket...) {
    withExtendedLifetime(sockets) {}
}
