import HutchModel
import HutchTensor

/// SGD with heavy-ball momentum (PyTorch's form): v ← μ·v + g, w ← w − lr·v. Velocities are
/// kept per parameter in Float, one array the size of the parameter each.
struct MomentumSGD {
    var momentum: Float
    private var velocity: [ValueID: [Float]] = [:]

    init(momentum: Double) {
        self.momentum = Float(momentum)
    }

    mutating func step(_ parameter: inout Tensor<Float>, id: ValueID, gradient: Tensor<Float>, rate: Double) {
        var v = velocity[id] ?? [Float](repeating: 0, count: gradient.count)
        let lr = Float(rate)
        for i in 0..<v.count {
            v[i] = momentum * v[i] + gradient.data[i]
            parameter.data[i] -= lr * v[i]
        }
        velocity[id] = v
    }
}
