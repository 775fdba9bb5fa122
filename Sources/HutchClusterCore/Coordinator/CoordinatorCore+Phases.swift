import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire

/// Phases: sensitivity rounds, quantization errors and eigenvalues, the quantize phase, the end.
extension CoordinatorCore {
    /// Starts the quantize phase: one task per layer under the plan's widths.
    /// `plan` is the plan.json bytes: broadcast to every worker (and to later ones after their
    /// WELCOME), served as a blob and listed in every quantize TASK.
    public mutating func startQuantize(_ spec: QuantizeWorkSpec, graph: Graph, plan: [UInt8], now: UInt64) -> [CoordinatorAction] {
        var out: [CoordinatorAction] = []
        guard !finished, phase == "waiting" else { return out }
        phase = "quantize"
        phaseStartMs = nil
        doneAtPhaseStart = tasksDone
        if let digest = WireDigest(Digest.sha256(plan)) {
            let broadcast = PlanBroadcast(digest: digest, body: plan)
            planBroadcast = broadcast
            blobList.append(digest)
            for key in peers.keys.sorted(by: Self.order) { send(key, .plan(broadcast), now, &out) }
        }
        quantizeSpec = spec.encoded()
        quantizeGraph = graph
        let count = graph.quantizableLayers.count
        enqueue((0..<count).map { .quantize(layer: $0) })
        roundOpen = count
        out.append(.log("quantize: \(count) layer tasks"))
        dispatch(now, &out)
        return out
    }

    mutating func openRound(_ out: inout [CoordinatorAction]) {
        guard let round = schedule.nextRound(aggregator) else {
            tracesDone = true
            queueActivations(&out)
            completeSensitivity(&out)
            return
        }
        enqueue(round.map { .sensitivity($0) })
        roundOpen = round.count
        // round 1 is queued behind the per-layer tasks start() created (quantization errors, eigenvalues)
        let perLayer = schedule.round == 1 ? errorsOpen + eigenOpen : 0
        let measured = schedule.round == 1 ? measuredOpen : 0
        out.append(.log("sensitivity round \(schedule.round): \(round.count) trace task(s)"
                        + (perLayer > 0 ? " and \(perLayer) per-layer task(s) (quantization errors, eigenvalues)" : "")
                        + (measured > 0 ? " and \(measured) measured-loss task(s)" : "") + " queued"))
    }

    /// Ends the sensitivity phase once the traces and the quantization errors are all in.
    mutating func completeSensitivity(_ out: inout [CoordinatorAction]) {
        guard tracesDone, errorsOpen == 0, eigenOpen == 0, activationsDone, measuredDone, phase == "sensitivity" else { return }
        let estimates = schedule.estimates(aggregator)
        let missing = estimates.firstIndex { $0 == nil }
        if quantizeFollows, missing == nil {
            phase = "waiting"
            out.append(.phaseComplete(estimates.compactMap { $0 }))
            return
        }
        finish(missing.map { .failed("layer \($0): no trace was computed (internal error: a task is missing)") }
               ?? .sensitivity(estimates.compactMap { $0 }), &out)
    }

    /// Stops the job now (operator interrupt): every worker gets DISCONNECT(shutdown).
    public mutating func abort(_ why: String) -> [CoordinatorAction] {
        var out: [CoordinatorAction] = []
        finish(.failed(why), &out)
        return out
    }

    mutating func finish(_ outcome: CoordinatorOutcome, _ out: inout [CoordinatorAction]) {
        guard !finished else { return }
        finished = true
        phase = "finished"
        queue.removeAll()
        let message: String
        let reason: DisconnectReason
        switch outcome {
        case .sensitivity, .quantized: (reason, message) = (.jobComplete, "the job is complete")
        case .failed(let why): (reason, message) = (.shutdown, String(why.prefix(1000)))
        }
        farewell = Disconnect(reason: reason, message: message)
        for key in peers.keys.sorted(by: Self.order) {
            out.append(.send(peer: key, .disconnect(farewell)))
        }
        out.append(.finish(outcome))
    }
}
