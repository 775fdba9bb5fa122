import HutchModel
import HutchQuantize
import HutchSensitivity
import HutchWire

/// Leases: sending tasks to workers with credit, expiry, and returning tasks to the queue.
extension CoordinatorCore {
    mutating func expire(_ now: UInt64, _ out: inout [CoordinatorAction]) {
        for key in peers.keys.sorted(by: Self.order) {
            guard let p = peers[key] else { continue }
            if now - min(now, p.lastHeard) > UInt64(config.liveness) * UInt64(p.heartbeatMs) {
                out.append(.send(peer: key, .disconnect(Disconnect(reason: .expired, message: "silent for \(now - p.lastHeard) ms"))))
                drop(key, reason: "expired", &out)
            }
        }
        for id in tasks.keys.sorted() {
            if let lease = tasks[id]?.lease, !(tasks[id]?.done ?? true), lease.deadline <= now {
                out.append(.log("lease \(lease.id) of task \(id) expired on \(peerName(lease.peer)); re-queued"))
                peers[lease.peer]?.leases.remove(id)
                tasks[id]?.lastPeer = lease.peer
                endLease(id)
                if unreturned.removeValue(forKey: lease.id) != nil { addCredit(lease.peer, 1, now, &out, command: nil) }
            }
        }
        resupply(now, &out)
    }

    /// Sends leases to workers with credit: lowest task id first, to the worker holding fewest.
    /// Probation: a session that has not completed a task yet holds one lease at a time, and
    /// workers that have completed one go first, so that a flood of HELLOs that never answer
    /// cannot take the queue (found by HostileInputTests).
    /// A task waiting for a second opinion (CoordinatorCore+Verify.swift) skips the workers that
    /// already ran it, and waits without holding up the tasks behind it.
    mutating func dispatch(_ now: UInt64, _ out: inout [CoordinatorAction]) {
        var index = 0
        while index < queue.count {
            let id = queue[index]
            let excluded = verifiers(id)
            let ready = peers.filter {
                $0.value.credit > 0 && ($0.value.completed > 0 || $0.value.leases.isEmpty) && !excluded.contains($0.value.instance)
            }
            // a task whose lease expired goes elsewhere when another worker has room
            let avoid = tasks[id]?.lastPeer
            guard let target = ready.min(by: { a, b in
                if (a.key == avoid) != (b.key == avoid) { return b.key == avoid }
                if (a.value.completed > 0) != (b.value.completed > 0) { return a.value.completed > 0 }
                return a.value.leases.count != b.value.leases.count ? a.value.leases.count < b.value.leases.count : Self.order(a.key, b.key)
            })?.key, let state = tasks[id] else {
                if excluded.isEmpty { return }   // no worker can take any task now
                index += 1
                continue
            }
            queue.remove(at: index)
            let kind: TaskKind, body: [UInt8]
            switch state.task {
            case .sensitivity(let t): (kind, body) = (.sensitivity, SensitivityBodies.taskBody(t, spec: specBytes))
            case .quantize(let layer): (kind, body) = (.quantize, QuantizeBodies.taskBody(layer: layer, spec: quantizeSpec))
            case .quantizationError(let layer):
                (kind, body) = (.quantizationError, QuantizeBodies.taskBody(layer: layer, spec: errorSpecBytes))
            case .eigenvalue(let layer):
                (kind, body) = (.sensitivity, EigenvalueBodies.taskBody(layer: layer, iterations: eigenIterations ?? 20, spec: specBytes))
            case .activation(let t): (kind, body) = (.sensitivity, ActivationBodies.taskBody(t, spec: specBytes))
            case .measured(let t): (kind, body) = (.sensitivity, MeasuredBodies.taskBody(t, spec: specBytes))
            }
            let lease = Lease(id: nextLeaseID, peer: target, deadline: now + UInt64(config.leaseMs),
                              assignment: TaskAssignment(taskID: id, leaseID: nextLeaseID, leaseMs: config.leaseMs, kind: kind,
                                                         blobs: blobList, body: body))
            if phaseStartMs == nil { phaseStartMs = now }   // the phase's work starts with its first lease
            nextLeaseID += 1
            tasks[id]?.lease = lease
            peers[target]?.credit -= 1
            unreturned[lease.id] = target
            peers[target]?.leases.insert(id)
            send(target, .task(lease.assignment), now, &out)
        }
    }

    mutating func drop(_ peer: [UInt8], reason: String, _ out: inout [CoordinatorAction]) {
        guard let p = peers.removeValue(forKey: peer) else { return }
        unreturned = unreturned.filter { $0.value != peer }
        requeue(p.leases, from: peer)
        out.append(.log("worker \(p.name) \(reason); \(p.leases.count) lease(s) re-queued"))
        out.append(.disconnect(peer: peer))
    }

    mutating func requeue(_ ids: Set<UInt64>, from peer: [UInt8]) {
        for id in ids.sorted() where tasks[id]?.lease?.peer == peer { endLease(id) }
    }

    mutating func endLease(_ id: UInt64) {
        guard tasks[id]?.lease != nil else { return }
        tasks[id]?.lease = nil
        if !(tasks[id]?.done ?? true) { enqueue(id) }
    }

    mutating func enqueue(_ id: UInt64) {
        let at = queue.firstIndex { $0 > id } ?? queue.count
        if !queue.contains(id) { queue.insert(id, at: at) }
    }
}
