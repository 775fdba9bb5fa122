import HutchModel
import HutchTensor

/// Per-example output shapes of the ops the integer network runs (batch left out).
enum IntegerShapes {
    /// The per-example output shape of a Conv or dense layer.
    static func layerShape(_ layer: IntegerLayer, input: [Int], fail: (String) -> ExportError) throws(ExportError) -> [Int] {
        guard case .conv(let a) = layer.kind else { return [layer.scales.count] }
        return try perExample(input, fail: fail) { () throws(ShapeError) in
            try ConvGeometry(input: [1] + input, weight: layer.weightShape, strides: a.strides, pads: a.pads, dilations: a.dilations, group: a.group)
        }
    }

    /// The per-example output shape of a pooling window over `shape` ([C, H, W] or [C, W]).
    static func pooled(_ shape: [Int], _ w: PoolAttributes, fail: (String) -> ExportError) throws(ExportError) -> [Int] {
        try perExample(shape, fail: fail) { () throws(ShapeError) in
            try ConvGeometry(poolInput: [1] + shape, kernel: w.kernelShape, strides: w.strides, pads: w.pads,
                             dilations: w.dilations, ceilMode: w.ceilMode)
        }
    }

    private static func perExample(_ input: [Int], fail: (String) -> ExportError,
                                   _ geometry: () throws(ShapeError) -> ConvGeometry) throws(ExportError) -> [Int] {
        do {
            let g = try geometry()
            return [g.outChannels] + g.outputSpatial
        } catch {
            throw fail("cannot run on input \(input): \(error)")
        }
    }

    /// The per-example shape after a data-movement op that keeps the element order (Identity,
    /// Flatten at axis 1, Reshape); nil for any other op.
    static func reshape(_ op: Op, _ shape: [Int], fail: (String) -> ExportError) throws(ExportError) -> [Int]? {
        let count = shape.reduce(1, *)
        switch op {
        case .identity:
            return shape
        case .flatten(let axis):
            guard axis == 1 else { throw fail("flattens at axis \(axis); only axis 1 keeps the examples apart") }
            return [count]
        case .reshape(let target):
            // Examples stay apart: the batch entry is 0, -1 or a number, the rest holds one example.
            var dims = Array(target.dropFirst())
            for (i, d) in dims.enumerated() where d == 0 { dims[i] = i < shape.count ? shape[i] : 0 }
            let known = dims.filter { $0 != -1 }.reduce(1, *)
            if dims.contains(-1), known > 0, count % known == 0 { dims = dims.map { $0 == -1 ? count / known : $0 } }
            guard dims.reduce(1, *) == count, dims.allSatisfy({ $0 >= 0 }) else {
                throw fail("reshapes one example of shape \(shape) to \(target); only reshapes that keep each example's elements have an integer rule")
            }
            return dims
        default:
            return nil
        }
    }
}
