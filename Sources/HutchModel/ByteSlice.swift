import Foundation

/// A range of a `ByteStorage`, kept alive with it: a tensor's raw data where the model file
/// (or its external data file) holds them, without a copy. Indices run from 0 to `count`.
public struct ByteSlice: RandomAccessCollection, Sendable {
    public let storage: ByteStorage
    public let range: Range<Int>

    /// `range` must lie within `storage` (the protobuf reader and `ExternalDataFiles` check it).
    init(_ storage: ByteStorage, _ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= storage.count, "slice \(range) outside \(storage.count) bytes")
        self.storage = storage
        self.range = range
    }

    /// A copy of `bytes` in a storage of its own.
    public init(_ bytes: some Collection<UInt8>) {
        let storage = ByteStorage(copying: bytes)
        self.init(storage, 0..<storage.count)
    }

    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage.buffer[range]) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { range.count }
    public subscript(position: Int) -> UInt8 { buffer[position] }

    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try body(buffer.assumingMemoryBound(to: UInt8.self))
    }

    /// At most `maxBytes` consecutive bytes at a time, in order (writing a large tensor to a
    /// file without holding a copy of it).
    public func forEachChunk(maxBytes: Int, _ body: ([UInt8]) throws -> Void) rethrows {
        var start = 0
        while start < count {
            let end = Swift.min(count, start + maxBytes)
            try body([UInt8](UnsafeRawBufferPointer(rebasing: buffer[start..<end])))
            start = end
        }
    }
}

extension ByteSlice: ContiguousBytes {
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(buffer) }
}

extension ByteSlice: Equatable {
    public static func == (a: ByteSlice, b: ByteSlice) -> Bool { a.buffer.elementsEqual(b.buffer) }
}

extension ByteSlice: CustomReflectable {
    /// Reflected as its bytes, like the array it stands for (a dump shows the data, not where
    /// they are held).
    public var customMirror: Mirror { Mirror(self, unlabeledChildren: [UInt8](buffer), displayStyle: .collection) }
}
