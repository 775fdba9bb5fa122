/// The pure codec: messages to frames and back, exactly as Protocols/wire.md lays them out.
/// Decoding never trusts its input: every frame count, length, range and enum value is checked,
/// and whatever decodes re-encodes to the same bytes.
public enum WireCodec {
    /// The frames of `message`; throws if a field is outside the protocol's limits.
    public static func encode(_ message: WireMessage) throws(WireError) -> [[UInt8]] {
        var w = FrameWriter(message.command)
        switch message {
        case .hello(let m):
            try m.validate()
            w.integer(m.capabilities.rawValue); w.integer(m.instance); w.text(m.name)
            w.integer(m.threads); w.integer(m.credit); w.integer(m.heartbeatMs)
        case .welcome(let m):
            try m.validate()
            w.digest(m.job); w.integer(m.epoch); w.integer(m.heartbeatMs); w.integer(m.liveness)
            w.integer(m.maxCredit); w.integer(m.maxChunkBytes); w.integer(m.maxFrameBytes)
        case .credit(let m):
            try m.validate()
            w.integer(m.credit)
        case .heartbeat, .statusRequest:
            break
        case .task(let m):
            try m.validate()
            w.integer(m.taskID); w.integer(m.leaseID); w.integer(m.leaseMs); w.integer(m.kind.rawValue)
            w.digests(m.blobs); w.bytes(m.body)
        case .result(let m):
            try m.validate()
            w.integer(m.taskID); w.integer(m.leaseID); w.integer(m.kind.rawValue); w.digests(m.blobs)
            w.bytes(m.body); w.doubles(m.values)
            if let peak = m.peakResidentBytes { w.integer(peak) }
        case .failure(let m):
            try m.validate()
            w.integer(m.taskID); w.integer(m.leaseID); w.integer(m.failureClass.rawValue); w.text(m.message)
        case .blobRequest(let m):
            try m.validate()
            w.digest(m.digest); w.integer(m.offset); w.integer(m.length)
        case .blobChunk(let m):
            try m.validate()
            w.digest(m.digest); w.integer(m.offset); w.integer(m.totalBytes); w.bytes(m.data)
        case .blobUnknown(let m):
            w.digest(m.digest)
        case .plan(let m):
            try m.validate()
            w.digest(m.digest); w.bytes(m.body)
        case .disconnect(let m):
            try m.validate()
            w.integer(m.reason.rawValue); w.text(m.message)
        case .error(let m):
            try m.validate()
            w.integer(m.code.rawValue); w.integer(m.command); w.text(m.message)
            if let digest = m.digest { w.digest(digest) }
        case .status(let m):
            try m.validate()
            w.text(m.json)
        }
        return w.frames
    }

    /// The message in `frames` (routing-id frame already removed), or the first thing wrong with it.
    public static func decode(_ frames: [[UInt8]]) throws(WireError) -> WireMessage {
        let command = try header(frames)
        var r = FrameReader(frames: frames, command: command)
        let message: WireMessage
        switch command {
        case .hello:
            let m = Hello(capabilities: Capabilities(rawValue: try r.integer("capabilities")),
                          instance: try r.integer("instance"),
                          name: try r.text("name", WireLimits.nameBytes),
                          threads: try r.integer("threads"), credit: try r.integer("credit"),
                          heartbeatMs: try r.integer("heartbeat_ms"))
            try m.validate(); message = .hello(m)
        case .welcome:
            let m = Welcome(job: try r.digest("job"), epoch: try r.integer("epoch"),
                            heartbeatMs: try r.integer("heartbeat_ms"), liveness: try r.integer("liveness"),
                            maxCredit: try r.integer("max_credit"), maxChunkBytes: try r.integer("max_chunk_bytes"),
                            maxFrameBytes: try r.integer("max_frame_bytes"))
            try m.validate(); message = .welcome(m)
        case .credit:
            let m = Credit(credit: try r.integer("credit"))
            try m.validate(); message = .credit(m)
        case .heartbeat:
            message = .heartbeat
        case .task:
            let m = TaskAssignment(taskID: try r.integer("task_id"), leaseID: try r.integer("lease_id"),
                                   leaseMs: try r.integer("lease_ms"), kind: try r.enumeration("kind", as: TaskKind.self),
                                   blobs: try r.digests("blobs"), body: try r.bytes("body", WireLimits.taskBodyBytes))
            try m.validate(); message = .task(m)
        case .result:
            let m = TaskResult(taskID: try r.integer("task_id"), leaseID: try r.integer("lease_id"),
                               kind: try r.enumeration("kind", as: TaskKind.self), blobs: try r.digests("blobs"),
                               body: try r.bytes("body", WireLimits.resultBodyBytes),
                               values: try r.doubles("values", WireLimits.resultValues),
                               peakResidentBytes: r.hasMore ? try r.integer("peak_resident_bytes") : nil)
            try m.validate(); message = .result(m)
        case .failure:
            let m = TaskFailure(taskID: try r.integer("task_id"), leaseID: try r.integer("lease_id"),
                                failureClass: try r.enumeration("class", as: FailureClass.self),
                                message: try r.text("message", WireLimits.textBytes))
            try m.validate(); message = .failure(m)
        case .blobRequest:
            let m = BlobRequest(digest: try r.digest("digest"), offset: try r.integer("offset"),
                                length: try r.integer("length"))
            try m.validate(); message = .blobRequest(m)
        case .blobChunk:
            let m = BlobChunk(digest: try r.digest("digest"), offset: try r.integer("offset"),
                              totalBytes: try r.integer("total_bytes"),
                              data: try r.bytes("data", 0...Int(WireLimits.chunkBytes.upperBound)))
            try m.validate(); message = .blobChunk(m)
        case .blobUnknown:
            message = .blobUnknown(BlobUnknown(digest: try r.digest("digest")))
        case .plan:
            let m = PlanBroadcast(digest: try r.digest("digest"), body: try r.bytes("body", WireLimits.planBytes))
            try m.validate(); message = .plan(m)
        case .disconnect:
            let m = Disconnect(reason: try r.enumeration("reason", as: DisconnectReason.self),
                               message: try r.text("message", WireLimits.textBytes))
            try m.validate(); message = .disconnect(m)
        case .error:
            let m = ErrorReply(code: try r.enumeration("code", as: WireErrorCode.self),
                               command: try r.integer("command"), message: try r.text("message", WireLimits.textBytes),
                               digest: r.hasMore ? try r.digest("digest") : nil)
            try m.validate(); message = .error(m)
        case .statusRequest:
            message = .statusRequest
        case .status:
            let m = StatusReport(json: try r.text("json", WireLimits.statusBytes))
            try m.validate(); message = .status(m)
        }
        try r.finish()
        return message
    }

    /// Checks frame count, frame sizes, signature, version and command byte.
    public static func header(_ frames: [[UInt8]]) throws(WireError) -> WireCommand {
        guard !frames.isEmpty else { throw .noFrames }
        guard frames.count <= WireLimits.maxFrames else {
            throw .tooManyFrames(count: frames.count, limit: WireLimits.maxFrames)
        }
        for (index, frame) in frames.enumerated() where frame.count > WireLimits.maxFrameBytes {
            throw .frameTooLarge(index: index, bytes: frame.count, limit: WireLimits.maxFrameBytes)
        }
        let signature = frames[0]
        guard signature.count == WireLimits.signature.count + 1,
              signature.prefix(WireLimits.signature.count).elementsEqual(WireLimits.signature) else {
            throw .badSignature
        }
        guard signature[WireLimits.signature.count] == WireLimits.version else {
            throw .unsupportedVersion(signature[WireLimits.signature.count])
        }
        guard frames.count >= 2 else { throw .badCommandFrame(bytes: 0) }
        guard frames[1].count == 1 else { throw .badCommandFrame(bytes: frames[1].count) }
        guard let command = WireCommand(rawValue: frames[1][0]) else { throw .unknownCommand(frames[1][0]) }
        return command
    }
}
