import HutchTensor

/// Calibration examples handed over a group at a time ([n, ...] tensors, in example order), so a
/// caller can stream them from a file instead of holding them all. Every pass over them must
/// give the same examples (percentile calibration makes two passes).
public protocol CalibrationExamples {
    func forEachGroup(_ body: (Tensor<Float>) throws -> Void) throws
}

/// Examples already in memory, handed over `groupSize` at a time.
public struct TensorGroups: CalibrationExamples {
    public var data: Tensor<Float>
    public var groupSize: Int

    public init(_ data: Tensor<Float>, groupSize: Int = 64) {
        self.data = data
        self.groupSize = max(1, groupSize)
    }

    public func forEachGroup(_ body: (Tensor<Float>) throws -> Void) throws {
        guard data.rank >= 1, data.shape[0] >= 1 else { return }
        let n = data.shape[0], per = data.count / n
        for start in stride(from: 0, to: n, by: groupSize) {
            let end = min(n, start + groupSize)
            try body(Tensor(shape: [end - start] + data.shape.dropFirst(), data: Array(data.data[start * per..<end * per])))
        }
    }
}
