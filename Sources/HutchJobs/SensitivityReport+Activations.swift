import HutchAllocation
import HutchModel
import HutchSensitivity

extension SensitivityReport {
    /// Writes each layer's input-activation sensitivity (`layers[].activation`); layers reading
    /// one activation get the same numbers.
    mutating func setActivations(_ measured: [ValueID: ActivationSensitivity], graph: Graph) {
        for (index, layer) in graph.quantizableLayers.enumerated() {
            guard let a = measured[layer.input] else { continue }
            layers[index].activation = .init(
                value: graph.values[layer.input.index].name, trace: a.trace, standardError: a.standardError, probes: a.probes,
                elements: a.elements, quantizationError: Dictionary(uniqueKeysWithValues: a.quantizationErrors.map { (String($0.key), $0.value) }))
        }
    }
}
