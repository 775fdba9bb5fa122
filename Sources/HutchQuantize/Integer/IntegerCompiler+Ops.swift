import HutchModel

extension IntegerCompiler {
    /// The rule of one op on an accumulator tensor `x` (scales `layout`, per-example `shape`).
    mutating func compileWide(_ node: Node, _ x: ValueID, _ out: ValueID, _ layout: WideScales, _ shape: [Int],
                              fail: (String) -> ExportError) throws(ExportError) {
        switch node.op {
        case .relu:
            steps.append(.clamp(x, out, lower: [0], upper: [Int64(Int32.max)], layout: WideScales(scales: [1], inner: 1)))
            (shapes[out], domains[out]) = (shape, .wide(layout))
        case .clip(let lo, let hi):
            // v·s >= lo  <=>  v >= ceil(lo / s) for an integer v (and likewise for hi).
            func bound(_ r: Double) -> Int64 { Int64(min(max(r, Double(Int32.min)), Double(Int32.max))) }
            steps.append(.clamp(x, out, lower: layout.scales.map { bound((Double(lo) / $0).rounded(.up)) },
                                upper: layout.scales.map { bound((Double(hi) / $0).rounded(.down)) }, layout: layout))
            (shapes[out], domains[out]) = (shape, .wide(layout.clamped()))
        case .maxPool(let window):
            let pooled = try IntegerShapes.pooled(shape, window, fail: fail)
            steps.append(.pool(x, out, isMax: true, window: window, node: node.name))
            (shapes[out], domains[out]) = (pooled, .wide(layout.with(inner: pooled.dropFirst().reduce(1, *))))
        case .averagePool(let window):
            guard !window.ceilMode, window.countIncludePad || window.pads.allSatisfy({ $0 == 0 }) else {
                throw fail("has windows of different sizes (ceil mode, or padding not counted); only full windows have an integer rule")
            }
            let pooled = try IntegerShapes.pooled(shape, window, fail: fail)
            steps.append(.pool(x, out, isMax: false, window: window, node: node.name))
            let size = window.kernelShape.reduce(1, *)
            (shapes[out], domains[out]) = (pooled, .wide(layout.divided(by: size, inner: pooled.dropFirst().reduce(1, *))))
        case .globalAveragePool:
            let spatial = Array(shape.dropFirst())
            let ones = spatial.map { _ in 1 }
            let window = PoolAttributes(kernelShape: spatial, strides: ones, pads: ones.map { _ in 0 } + ones.map { _ in 0 }, dilations: ones)
            let pooled = try IntegerShapes.pooled(shape, window, fail: fail)
            steps.append(.pool(x, out, isMax: false, window: window, node: node.name))
            (shapes[out], domains[out]) = (pooled, .wide(layout.divided(by: spatial.reduce(1, *), inner: 1)))
        case .add:
            guard node.inputs.count == 2, let y = node.inputs[1], case .wide(let other)? = domains[y], shapes[y] == shape else {
                throw fail("adds a constant, the float input or a tensor of another shape; only residual adds of two computed tensors of one shape have an integer rule")
            }
            let add = try ResidualAdd(layout, other, node: node.name)
            steps.append(.add(x, y, out, add, node: node.name))
            (shapes[out], domains[out]) = (shape, .wide(add.layout))
        default:
            throw fail("has no integer rule (supported: Conv, Gemm, MatMul, Relu, Clip, Add, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, Identity)")
        }
    }
}
