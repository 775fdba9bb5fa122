/// One protocol message (Protocols/wire.md). The routing-id frame a ROUTER adds is not part of it.
public enum WireMessage: Hashable, Sendable {
    case hello(Hello)
    case welcome(Welcome)
    case credit(Credit)
    case heartbeat
    case task(TaskAssignment)
    case result(TaskResult)
    case failure(TaskFailure)
    case blobRequest(BlobRequest)
    case blobChunk(BlobChunk)
    case blobUnknown(BlobUnknown)
    case plan(PlanBroadcast)
    case disconnect(Disconnect)
    case error(ErrorReply)
    case statusRequest
    case status(StatusReport)

    public var command: WireCommand {
        switch self {
        case .hello: .hello
        case .welcome: .welcome
        case .credit: .credit
        case .heartbeat: .heartbeat
        case .task: .task
        case .result: .result
        case .failure: .failure
        case .blobRequest: .blobRequest
        case .blobChunk: .blobChunk
        case .blobUnknown: .blobUnknown
        case .plan: .plan
        case .disconnect: .disconnect
        case .error: .error
        case .statusRequest: .statusRequest
        case .status: .status
        }
    }
}
