import CBLAS

/// The scalar types the engine computes in: `Float` (production) and `Double` (derivative checks).
/// Each supplies its BLAS GEMM so that generic kernels call the right routine.
/// `Codable` is stated because the compiler infers it from `SIMDScalar` anyway (its storage types
/// fix `Scalar == Self`, and the SIMD vectors need Codable scalars) and warns on every build while
/// it is left implicit; Float and Double are Codable, so nothing changes for them.
public protocol TensorScalar: BinaryFloatingPoint, SIMDScalar, Codable, Sendable where Self.RawSignificand: FixedWidthInteger {
    /// `cblas_sgemm` or `cblas_dgemm`: what `gemm` calls.
    static var blasGemm: BLASGemm<Self> { get }
    /// Elementary functions for activations and the loss (TensorScalar+Math.swift).
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
}

/// The signature of the CBLAS GEMMs for scalar T.
public typealias BLASGemm<T> = (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, T,
                                UnsafePointer<T>?, blasint, UnsafePointer<T>?, blasint, T, UnsafeMutablePointer<T>?, blasint) -> Void

extension TensorScalar {
    /// C = alpha * op(A) * op(B) + beta * C, row-major, as `cblas_?gemm`.
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            alpha: Self, a: UnsafePointer<Self>, lda: Int,
                            b: UnsafePointer<Self>, ldb: Int,
                            beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int) {
        blasGemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                 blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}

extension Float: TensorScalar {
    @inlinable public static var blasGemm: BLASGemm<Float> { cblas_sgemm }
}

extension Double: TensorScalar {
    @inlinable public static var blasGemm: BLASGemm<Double> { cblas_dgemm }
}
