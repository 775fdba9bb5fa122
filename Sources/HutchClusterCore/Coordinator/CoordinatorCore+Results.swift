import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire

/// Results and failures: validation, deduplication by task id, strikes, bounded retries.
extension CoordinatorCore {
    /// Accepts a valid result of a task not yet done and asks the shell to journal it, ahead of
    /// whatever the result set off (the next round, the phase end, the finish).
    mutating func accept(_ peer: [UInt8], _ r: WireTaskResult, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        let mark = out.count
        let wasOpen = tasks[r.taskID].map { !$0.done } ?? false
        acceptResult(peer, r, now, &out)
        if wasOpen, tasks[r.taskID]?.done == true { out.insert(.persist(.result(journaled(r))), at: mark) }
    }

    mutating func acceptResult(_ peer: [UInt8], _ r: WireTaskResult, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        guard let state = tasks[r.taskID] else {
            strike(peer, nil, "task \(r.taskID) is not a task of this job", now, &out, code: .unknownTask)
            return
        }
        if Self.isPulled(r), !state.done, case .quantize(let layer) = state.task {
            if let body = storedLayer(r.blobs[0]) {   // already here (a journal record, a second copy): no pull
                var whole = r
                (whole.body, whole.blobs) = (body, [])
                acceptResult(peer, whole, now, &out)
                return
            }
            startPull(peer, r, layer: layer, now, &out)   // counts once its blob is here; the lease stays meanwhile
            return
        }
        if state.lease?.peer == peer { peers[peer]?.leases.remove(r.taskID) }
        if state.done {
            duplicates += 1
            peers[peer]?.leases.remove(r.taskID)
            return
        }
        let task: SensitivityTask
        switch state.task {
        case .quantize(let layer):
            acceptQuantized(peer, r, layer, now, &out)
            return
        case .quantizationError(let layer):
            acceptErrors(peer, r, layer, now, &out)
            return
        case .eigenvalue(let layer):
            guard r.kind == .sensitivity, r.body == EigenvalueBodies.resultBody(layer: layer), r.values.count == 1, r.values[0].isFinite else {
                strike(peer, r.taskID, "result of task \(r.taskID) (eigenvalue of layer \(layer)) needs body format 2 for that layer and one finite value", now, &out)
                return
            }
            guard confirmed(peer, r, now, &out) else { return }
            complete(r.taskID, peer)
            eigenvalues[layer] = r.values[0]
            eigenOpen -= 1
            completeSensitivity(&out)
            return
        case .activation(let t):
            acceptActivation(peer, r, t, now, &out)
            return
        case .measured(let t):
            acceptMeasured(peer, r, t, now, &out)
            return
        case .sensitivity(let t): task = t
        }
        let result: SensitivityTaskResult
        do {
            result = try validate(r, task)
        } catch {
            strike(peer, r.taskID, error.description, now, &out)
            return
        }
        guard confirmed(peer, r, now, &out) else { return }
        // Tasks of a schedule cover disjoint cells and each is accepted once, and `validate` checked
        // the shape and finiteness, so `add` fails only on wrong example counts, which it checks
        // before writing any cell: no copy of the aggregator is needed to keep it clean.
        do {
            try aggregator.add(result)
        } catch {
            strike(peer, r.taskID, error.description, now, &out)
            return
        }
        complete(r.taskID, peer)
        roundOpen -= 1
        if roundOpen == 0 { openRound(&out) }
    }

    /// Valid result of a quantize task: the layer, decoded and checked against the model.
    mutating func acceptQuantized(_ peer: [UInt8], _ r: WireTaskResult, _ layer: Int, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        let q: QuantizedLayer
        do {
            guard r.kind == .quantize, r.values.isEmpty, let graph = quantizeGraph else {
                throw BodyError("result of task \(r.taskID) is not a quantize result")
            }
            q = try QuantizeBodies.decodeResult(r.body, layer: layer, graph: graph)
        } catch {
            strike(peer, r.taskID, "\(error)", now, &out)
            return
        }
        guard confirmed(peer, r, now, &out) else { return }
        guard keepLayer(q, body: r.body, &out) else { return }
        complete(r.taskID, peer)
        roundOpen -= 1
        if roundOpen == 0 { finishQuantize(&out) }
    }

    mutating func complete(_ id: UInt64, _ peer: [UInt8]) {
        if let holder = tasks[id]?.lease?.peer { peers[holder]?.leases.remove(id) }
        tasks[id]?.done = true
        tasks[id]?.lease = nil
        // a late answer of an expired lease (or a replayed one) may find its task queued again;
        // the queue is sorted (enqueue keeps it so), so a binary search finds it
        var low = 0, high = queue.count
        while low < high {
            let mid = (low + high) / 2
            if queue[mid] < id { low = mid + 1 } else { high = mid }
        }
        if low < queue.count && queue[low] == id { queue.remove(at: low) }
        peers[peer]?.completed += 1
    }

    func validate(_ r: WireTaskResult, _ task: SensitivityTask) throws(BodyError) -> SensitivityTaskResult {
        guard r.kind == .sensitivity else { throw BodyError("result of task \(r.taskID) has kind \(r.kind), not sensitivity") }
        let (echo, counts) = try SensitivityBodies.decodeResult(r.body)
        guard echo == task else { throw BodyError("result of task \(r.taskID) is for \(echo), the task is \(task)") }
        let job = spec.job
        let width = job.layers(ofGroups: task.groups).count
        let expected = (job.method == .exact ? 1 : task.probes.count) * task.batches.count * width
        guard r.values.count == expected else {
            throw BodyError("result of task \(r.taskID) has \(r.values.count) values, \(task) needs \(expected)")
        }
        guard r.values.allSatisfy(\.isFinite) else { throw BodyError("result of task \(r.taskID) has a non-finite value") }
        return SensitivityTaskResult(task: task, exampleCounts: counts, values: r.values)
    }

    mutating func failed(_ peer: [UInt8], _ f: TaskFailure, _ out: inout [CoordinatorAction]) {
        guard var state = tasks[f.taskID] else {
            out.append(.send(peer: peer, .error(ErrorReply(code: .unknownTask, command: WireCommand.failure.rawValue,
                                                             message: "task \(f.taskID) is not a task of this job"))))
            return
        }
        guard !state.done, let lease = state.lease, lease.id == f.leaseID, lease.peer == peer else { return }   // stale
        peers[peer]?.leases.remove(f.taskID)
        state.lease = nil
        state.lastPeer = peer
        state.failures += 1
        if f.failureClass == .poison { state.poisonReports += 1 }
        state.lastFailure = f.message
        tasks[f.taskID] = state
        out.append(.log("task \(f.taskID) \(state.task) failed on \(peerName(peer)) (\(f.failureClass)): \(f.message)"))
        if state.failures >= config.maxFailures || state.poisonReports >= config.maxPoisonReports {
            finish(.failed("task \(f.taskID) \(state.task) failed \(state.failures) times (\(state.poisonReports) reported it poison); last: \(f.message)"), &out)
            return
        }
        enqueue(f.taskID)
    }

    mutating func acceptErrors(_ peer: [UInt8], _ r: WireTaskResult, _ layer: Int, _ now: UInt64, _ out: inout [CoordinatorAction]) {
        let bits = errorSpec?.bits ?? []
        guard r.kind == .quantizationError, r.body == QuantizeBodies.errorResultBody(layer: layer), r.values.count == bits.count,
              r.values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            strike(peer, r.taskID, "result of task \(r.taskID) (quantization errors of layer \(layer)) needs body format 1 for that layer and \(bits.count) finite non-negative values, got \(r.values.count)", now, &out)
            return
        }
        guard confirmed(peer, r, now, &out) else { return }
        complete(r.taskID, peer)
        errors[layer] = Dictionary(uniqueKeysWithValues: zip(bits, r.values))
        errorsOpen -= 1
        completeSensitivity(&out)
    }
}
