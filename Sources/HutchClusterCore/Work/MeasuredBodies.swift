import HutchSensitivity

/// Measured-loss tasks (`MeasuredTask`, `--measured`) travel as sensitivity tasks with body
/// format 4 (Protocols/wire.md 11.2c):
/// TASK body:   u8 format (4) · u32 layer (0xFFFFFFFF: the float model) · u32 bits · u64 batches.lower
///              · u64 batches.upper · u32 n · n bytes of SensitivityWorkSpec JSON
/// RESULT body: u8 format (4) · the same layer, bits and batches · u32 k · k × u32 examples per batch;
///              values = the k batches' loss sums
public enum MeasuredBodies {
    public static let format: UInt8 = 4
    static let floatModel = UInt32.max

    public static func taskBody(_ task: MeasuredTask, spec: [UInt8]) -> [UInt8] {
        var out = header(task)
        SensitivityBodies.appendU32(UInt32(clamping: spec.count), to: &out)
        return out + spec
    }

    public static func resultBody(_ task: MeasuredTask, exampleCounts: [Int]) -> [UInt8] {
        var out = header(task)
        SensitivityBodies.appendU32(UInt32(clamping: exampleCounts.count), to: &out)
        for c in exampleCounts { SensitivityBodies.appendU32(UInt32(clamping: c), to: &out) }
        return out
    }

    public static func decodeTask(_ body: [UInt8]) throws(BodyError) -> (task: MeasuredTask, spec: [UInt8]) {
        var r = SensitivityBodies.Reader(bytes: body)
        let task = try decodeHeader(&r)
        let n = Int(try r.u32())
        guard n <= SensitivityBodies.maxSpecBytes, r.remaining == n else {
            throw BodyError("measured task body: spec length \(n) does not match the \(r.remaining) bytes that follow")
        }
        return (task, Array(body[r.offset...]))
    }

    public static func decodeResult(_ body: [UInt8]) throws(BodyError) -> (task: MeasuredTask, exampleCounts: [Int]) {
        var r = SensitivityBodies.Reader(bytes: body)
        let task = try decodeHeader(&r)
        let k = Int(try r.u32())
        guard r.remaining == 4 * k else { throw BodyError("measured result body: \(k) example counts need \(4 * k) bytes, \(r.remaining) follow") }
        var counts: [Int] = []
        for _ in 0..<k { counts.append(Int(try r.u32())) }
        return (task, counts)
    }

    private static func header(_ task: MeasuredTask) -> [UInt8] {
        var out: [UInt8] = [format]
        SensitivityBodies.appendU32(task.layer.map { UInt32(clamping: $0) } ?? floatModel, to: &out)
        SensitivityBodies.appendU32(UInt32(clamping: task.bits), to: &out)
        for v in [task.batches.lowerBound, task.batches.upperBound] { SensitivityBodies.appendU64(UInt64(clamping: v), to: &out) }
        return out
    }

    private static func decodeHeader(_ r: inout SensitivityBodies.Reader) throws(BodyError) -> MeasuredTask {
        guard r.remaining >= 1, r.bytes[r.offset] == format else { throw BodyError("measured body: format is not \(format)") }
        r.offset += 1
        let layer = try r.u32(), bits = try r.u32(), lo = try r.u64(), hi = try r.u64()
        guard lo <= hi, hi <= UInt64(Int32.max) else { throw BodyError("measured body: batches \(lo)..<\(hi) are not ordered or too large") }
        guard layer == floatModel ? bits == 0 : (layer <= UInt32(Int32.max) && (1...16).contains(bits)) else {
            throw BodyError("measured body: layer \(layer) at \(bits) bits is neither the float model (layer 0xFFFFFFFF, 0 bits) nor a layer at 1-16 bits")
        }
        return MeasuredTask(layer: layer == floatModel ? nil : Int(layer), bits: Int(bits), batches: Int(lo)..<Int(hi))
    }
}
