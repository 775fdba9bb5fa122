import HutchTensorAVX2

/// How the im2col paths split a batch: chunks of examples fixed by the geometry (so bits do not
/// depend on the thread count), each unfolded side by side into one patch matrix, with one
/// scratch pair per thread.
struct Im2colChunks {
    /// Examples per chunk, and chunks.
    let size: Int, count: Int
    let batch: Int, outSpatial: Int

    init(_ g: ConvGeometry) {
        batch = g.batch
        outSpatial = g.outSpatial
        size = Kernels.chunkSize(g, batch: g.batch)
        count = (g.batch + size - 1) / size
    }

    /// Chunk c: its first example, its example count and the row stride of its matrices.
    @inline(__always)
    func chunk(_ c: Int) -> (first: Int, count: Int, ld: Int) {
        let n = min(size, batch - c * size)
        return (c * size, n, n * outSpatial)
    }
}

/// One thread's scratch for a chunk: the patch matrix (C_in*kH*kW rows) and a matrix of
/// `outRows` rows in output layout, both `chunk * OH*OW` wide, and `FixedOrderGemm.readSlack`
/// floats after each (it reads past a row narrower than its vectors). `release()` returns them.
struct Im2colScratch<Scalar: TensorScalar> {
    let col: UnsafeMutablePointer<Scalar>, out: UnsafeMutablePointer<Scalar>
    let colCount: Int, outCount: Int

    init(_ g: ConvGeometry, _ chunks: Im2colChunks, outRows: Int) {
        colCount = g.inChannels * g.kernelHeight * g.kernelWidth * chunks.size * g.outSpatial + FixedOrderGemm.readSlack
        outCount = outRows * chunks.size * g.outSpatial + FixedOrderGemm.readSlack
        col = BufferPool.shared.scratch(colCount, of: Scalar.self)
        out = BufferPool.shared.scratch(outCount, of: Scalar.self)
    }

    func release() {
        BufferPool.shared.release(col, colCount)
        BufferPool.shared.release(out, outCount)
    }
}

extension Kernels {
    /// Runs body(part, col, out, first, count, ld) for every chunk: the chunks split into `parts`
    /// contiguous ranges that run in parallel, each with its own scratch (`col` for the patch
    /// matrix, `out` for `outRows` rows of output layout); `ld` the chunk's row stride.
    static func forEachChunk<Scalar: TensorScalar>(
        _ g: ConvGeometry, _ chunks: Im2colChunks, parts: Int, outRows: Int,
        _ body: (_ part: Int, _ col: UnsafeMutablePointer<Scalar>, _ out: UnsafeMutablePointer<Scalar>,
                 _ first: Int, _ count: Int, _ ld: Int) -> Void
    ) {
        parallelFor(parts) { part in
            let scratch = Im2colScratch<Scalar>(g, chunks, outRows: outRows)
            defer { scratch.release() }
            for c in (chunks.count * part / parts)..<(chunks.count * (part + 1) / parts) {
                let (first, count, ld) = chunks.chunk(c)
                body(part, scratch.col, scratch.out, first, count, ld)
            }
        }
    }

    /// im2col of examples first..<first+count of x (NCHW) side by side, row stride count * OH*OW.
    static func im2colExamples<Scalar: TensorScalar>(_ g: ConvGeometry, _ x: UnsafePointer<Scalar>, first: Int, count: Int,
                                                     into col: UnsafeMutablePointer<Scalar>) {
        for i in 0..<count {
            im2col(g, x: x + (first + i) * g.inChannels * g.inSpatial, col: col + i * g.outSpatial, ld: count * g.outSpatial)
        }
    }

    /// Copies examples first..<first+count of an NCHW output into [C, count * OH*OW] matrix layout.
    static func gatherOutput<Scalar: TensorScalar>(_ g: ConvGeometry, _ dy: UnsafePointer<Scalar>, first: Int, count: Int,
                                                   into gmat: UnsafeMutablePointer<Scalar>) {
        let (cout, os) = (g.outChannels, g.outSpatial)
        let ld = count * os
        for i in 0..<count {
            for co in 0..<cout {
                (gmat + co * ld + i * os).update(from: dy + ((first + i) * cout + co) * os, count: os)
            }
        }
    }

    /// The adjoint layout move: [C, count * OH*OW] into examples first..<first+count of an NCHW
    /// output, added or stored.
    @inline(__always)
    static func scatterOutput<Scalar: TensorScalar>(_ g: ConvGeometry, _ tmp: UnsafePointer<Scalar>, first: Int, count: Int,
                                                    into y: UnsafeMutablePointer<Scalar>, accumulate: Bool) {
        let (cout, os) = (g.outChannels, g.outSpatial)
        let ld = count * os
        for i in 0..<count {
            for co in 0..<cout {
                let dst = y + ((first + i) * cout + co) * os, src = tmp + co * ld + i * os
                if accumulate {
                    for j in 0..<os { dst[j] += src[j] }
                } else {
                    dst.update(from: src, count: os)
                }
            }
        }
    }
}
