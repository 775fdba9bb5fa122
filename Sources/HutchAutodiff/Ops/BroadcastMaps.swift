import HutchModel
import HutchTensor

/// The output shape of an elementwise op over broadcasting inputs and, for each input, the flat
/// index it reads at every output index (Where, Max and the discrete ops, all small tensors in
/// the models Hutch meets: masks and indices). Memory: one Int per output entry and input, for
/// the duration of one call.
struct BroadcastMaps {
    let shape: [Int]
    let maps: [[Int]]

    init(_ node: Node, _ shapes: [[Int]]) throws(ExecutionError) {
        guard let shape = Broadcasting.shape(shapes) else { throw ExecutionError.node(node, "shapes \(shapes) do not broadcast") }
        self.shape = shape
        maps = shapes.map { Broadcasting.indexMap(from: $0, to: shape) }
    }

    var count: Int { maps.first?.count ?? 0 }
}
