import Foundation
import HutchTensor

/// What a Hutchinson chunk holds when its reverse sweep starts (its peak), by role, each storage
/// counted once under the first role that holds it. Opt-in for diagnosis: HUTCH_MEMORY_ROLES=1
/// prints one line per chunk to stderr; off, the sweeps test one flag per chunk.
struct MemoryRoles<Scalar: TensorScalar> {
    static var enabled: Bool { memoryRolesEnabled }

    var bytes: [(role: String, bytes: Int)] = []

    init(parameters: [Stacked<Scalar>], tape: [Stacked<Scalar>?], tangents: [Stacked<Scalar>?], weightTerms: [Stacked<Scalar>]) {
        var seen = Set<ObjectIdentifier>()
        func sum(_ values: [Stacked<Scalar>?]) -> Int {
            values.reduce(0) { total, value in
                guard let value, seen.insert(ObjectIdentifier(value.storage)).inserted else { return total }
                return total + value.count * MemoryLayout<Scalar>.stride
            }
        }
        bytes = [("parameters+directions", sum(parameters)), ("tape values", sum(tape)),
                 ("kept tangents", sum(tangents)), ("kept conv(x,V) terms", sum(weightTerms))]
    }

    func report(examples: Int, k: Int) {
        let pool = BufferPool.shared.statistics
        let mb = { (b: Int) in String(format: "%.1f", Double(b) / 1e6) }
        let roles = bytes.map { "\($0.role) \(mb($0.bytes))" }.joined(separator: ", ")
        FileHandle.standardError.write(Data(("memory roles (MB), chunk of \(examples) examples, k \(k): \(roles); pool live "
            + "\(mb(pool.liveBytes)) (classes \(mb(pool.liveClassBytes))), peak live \(mb(pool.peakLiveBytes)) (classes "
            + "\(mb(pool.peakLiveClassBytes))), cached \(mb(pool.cachedBytes)), "
            + "fresh allocations \(pool.freshAllocations) (\(mb(pool.freshBytes)))\n").utf8))
    }
}

private let memoryRolesEnabled = ProcessInfo.processInfo.environment["HUTCH_MEMORY_ROLES"] == "1"
