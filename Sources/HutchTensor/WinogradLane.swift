import HutchTensorAVX2

/// F(4x4, 3x3)'s transforms on four lanes (`WinogradLane`, `WinogradF4Matrices`).
extension SIMD4 where Scalar == Float {
    /// Four floats from p (any alignment).
    @inline(__always) init(loading p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: Self.self) }

    /// The four floats at p (any alignment).
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
}
