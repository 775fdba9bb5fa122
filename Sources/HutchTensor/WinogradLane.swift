/// What the F(4x4, 3x3) transforms compute with: one Float (a tile) or four lanes (four tiles
/// or columns side by side). One generic expression tree serves both, so a lane of SIMD4 runs
/// exactly the IEEE operations, in the same order, as the scalar code: the same bits.
protocol WinogradLane {
    init(splat: Float)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
}

extension Float: WinogradLane {
    @inline(__always) init(splat x: Float) { self = x }
}

extension SIMD4: WinogradLane where Scalar == Float {
    @inline(__always) init(splat x: Float) { self.init(repeating: x) }
}

extension SIMD4 where Scalar == Float {
    /// Four floats from p (any alignment).
    @inline(__always) init(loading p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: Self.self) }

    /// The four floats at p (any alignment).
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
}
