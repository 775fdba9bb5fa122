import Foundation
import HutchTensor

/// Owned scalar storage, returned to `BufferPool` when the last `Stacked` using it goes away.
final class Storage<Scalar: TensorScalar>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Scalar>
    let count: Int
    /// Stands for a tape value the reverse sweep reads no more of than its shape (no scalars).
    let released: Bool
    private let bytes: Int
    init(count: Int, zeroed: Bool, released: Bool = false) {
        self.count = count
        self.released = released
        bytes = max(count, 1) * MemoryLayout<Scalar>.stride
        pointer = BufferPool.shared.take(bytes).bindMemory(to: Scalar.self, capacity: max(count, 1))
        if zeroed { pointer.update(repeating: 0, count: count) }
    }
    deinit { BufferPool.shared.give(UnsafeMutableRawPointer(pointer), bytes) }
}

/// `blocks` tensors of the same `shape` stored one after another: a primal value (1 block),
/// the k tangents of a Hessian-vector product, or the S seed adjoints of per-example norms.
/// Along axis 0 the blocks read as one tensor of shape [blocks * shape[0], ...], which is what
/// lets convolutions and GEMMs treat the k probes as one larger batch.
struct Stacked<Scalar: TensorScalar> {
    private(set) var storage: Storage<Scalar>
    let shape: [Int]
    let blocks: Int

    init(shape: [Int], blocks: Int = 1, zeroed: Bool = true) {
        self.shape = shape
        self.blocks = blocks
        storage = Storage(count: blocks * shape.reduce(1, *), zeroed: zeroed)
    }

    init(_ tensor: Tensor<Scalar>) {
        self.init(shape: tensor.shape, blocks: 1, zeroed: false)
        tensor.data.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { storage.pointer.update(from: base, count: src.count) }
        }
    }

    /// The same storage under another per-block shape of equal size.
    init(reshaping other: Stacked, to shape: [Int]) {
        storage = other.storage
        self.shape = shape
        blocks = other.blocks
    }

    /// The same shape and blocks without scalars: what the tape keeps of a value the reverse
    /// sweep reads only the shape of (Executor+TapeRelease.swift).
    func released() -> Stacked {
        var copy = self
        copy.storage = Storage(count: 0, zeroed: false, released: true)
        return copy
    }

    var blockCount: Int { shape.reduce(1, *) }
    /// Scalars held: 0 once released.
    var count: Int { storage.count }
    /// A rule that reads a released value has a wrong `OpRule.reverseReads`: stop rather than read freed memory.
    var pointer: UnsafeMutablePointer<Scalar> {
        precondition(!storage.released, "a rule read a tape value released before the reverse sweep (OpRule.reverseReads)")
        return storage.pointer
    }
    /// Block j; a single shared block serves every j.
    func block(_ j: Int) -> UnsafeMutablePointer<Scalar> { pointer + (blocks == 1 ? 0 : j * blockCount) }
    /// Stride between blocks for kernels (0 when shared).
    var blockStride: Int { blocks == 1 ? 0 : blockCount }

    func tensor(block j: Int) -> Tensor<Scalar> {
        Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: block(j), count: blockCount)))
    }

    /// Whether no other `Stacked` shares this storage, so that it may be overwritten in place.
    mutating func isUnique() -> Bool { isKnownUniquelyReferenced(&storage) }

    /// self += other (same shape and blocks); copies first if the storage is shared, since
    /// rules may hand the same storage to several inputs (Add, Identity).
    mutating func add(_ other: Stacked) {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = Storage<Scalar>(count: storage.count, zeroed: false)
            copy.pointer.update(from: storage.pointer, count: storage.count)
            storage = copy
        }
        Kernels.axpy(1, x: other.pointer, y: storage.pointer, count: storage.count)
    }
}

extension Stacked {
    /// Sum of two optional contributions.
    static func sum(_ a: consuming Stacked?, _ b: Stacked?) -> Stacked? {
        guard var a else { return b }
        guard let b else { return a }
        a.add(b)
        return a
    }
}
