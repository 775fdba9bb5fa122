import HutchAutodiff
import HutchModel
import HutchTensor

/// How activation ranges are chosen from the calibration data.
public enum CalibrationMethod: Sendable, Equatable {
    /// The observed min and max.
    case minMax
    /// The (100 - p)-th to p-th percentile of a 2048-bin histogram over the min-max range.
    case percentile(Double)
}

/// Quantizes a whole model to per-layer widths: weights as independent layer tasks, activations
/// from ranges calibrated on data. Pure apart from reading the graph and the data.
public struct ModelQuantizer: Sendable {
    public var graph: Graph
    /// One entry per quantizable layer, canonical order.
    public var widths: [LayerWidths]
    public var scheme: QuantizationScheme
    public var range: RangeMethod

    public init(graph: Graph, widths: [LayerWidths], scheme: QuantizationScheme = .symmetric,
                range: RangeMethod = .minMax) throws(ExportError) {
        let layers = graph.quantizableLayers
        guard widths.count == layers.count else {
            throw ExportError(.plan, "the plan gives widths for \(widths.count) layers but the model has \(layers.count) quantizable layers")
        }
        for (layer, width) in zip(layers, widths) {
            for (what, bits) in [("weight", width.weightBits), ("activation", width.activationBits)] where !(1...16).contains(bits) {
                throw ExportError(.plan, "layer '\(layer.nodeName)': \(what) width \(bits) is outside 1...16; fix the plan")
            }
        }
        self.graph = graph
        self.widths = widths
        self.scheme = scheme
        self.range = range
    }

    /// One task per layer, canonical order; run them in any grouping and `assemble` the results.
    public func tasks() throws(ExportError) -> [LayerQuantizationTask] {
        var tasks: [LayerQuantizationTask] = []
        for (index, layer) in graph.quantizableLayers.enumerated() {
            guard let weight = graph.initializers[layer.weight] else {
                throw ExportError(.model, "layer '\(layer.nodeName)': weight '\(layer.weightName)' is not a constant")
            }
            let config = WeightQuantizerConfig(scheme: scheme, granularity: .perChannel(axis: layer.outputChannelAxis(in: graph)), range: range)
            tasks.append(LayerQuantizationTask(index: index, node: layer.nodeName, weightName: layer.weightName,
                                               weight: weight, bits: widths[index].weightBits, config: config))
        }
        return tasks
    }

    /// Quantizes every layer (one group) and, given data, calibrates the activations.
    public func quantize(calibration data: Tensor<Float>?, method: CalibrationMethod = .minMax) throws -> QuantizedModel {
        try quantize(calibrationExamples: data.map { TensorGroups($0) }, method: method)
    }

    /// The same calibrating on examples handed over a group at a time (`hutch quantize` reads
    /// them from the files a window at a time).
    public func quantize<Examples: CalibrationExamples>(calibrationExamples data: Examples?,
                                                        method: CalibrationMethod = .minMax) throws -> QuantizedModel {
        let tasks = try tasks()
        var results: [QuantizedLayer] = []
        for task in tasks { results.append(try task.run()) }
        let layers = try QuantizedLayer.assemble([results], expected: tasks.count)
        guard let data else { return QuantizedModel(graph: graph, layers: layers, inputs: [], outputs: [:]) }
        let (inputs, outputs) = try calibrate(data, method: method)
        return QuantizedModel(graph: graph, layers: layers, inputs: inputs, outputs: outputs)
    }

    /// Activation quantization of each quantized layer's data input (a tensor shared by several
    /// layers gets the widest of their activation widths) and of each layer's output.
    public func calibrate(_ data: Tensor<Float>, method: CalibrationMethod,
                          batchSize: Int = 64) throws -> ([ActivationQuantization], [Int: ActivationQuantization]) {
        try calibrate(TensorGroups(data, groupSize: batchSize), method: method)
    }

    /// The same from examples handed over a group at a time. Min-max and percentile ranges are
    /// exact under any grouping (min, max and histogram counts combine exactly), so the result
    /// does not depend on the group sizes.
    public func calibrate(_ data: some CalibrationExamples,
                          method: CalibrationMethod) throws -> ([ActivationQuantization], [Int: ActivationQuantization]) {
        let layers = graph.quantizableLayers
        var inputBits: [ValueID: Int] = [:]
        var inputOrder: [ValueID] = []
        for (index, layer) in layers.enumerated() where layer.readsActivation {
            guard let id = graph.nodes[layer.nodeIndex].inputs[0] else { continue }
            if inputBits[id] == nil { inputOrder.append(id) }
            inputBits[id] = max(inputBits[id] ?? 0, widths[index].activationBits)
        }
        let outputIDs = layers.map { graph.nodes[$0.nodeIndex].outputs[0] }
        var ids = inputOrder
        for id in outputIDs where !ids.contains(id) { ids.append(id) }
        let ranges = try observeRanges(ids, data: data, method: method)

        func quantization(_ id: ValueID, bits: Int) throws -> ActivationQuantization {
            var range = ranges[id] ?? ActivationRange(min: 0, max: 0)
            if producedByReLU(id) { range = range.unsigned }
            let grid = try QuantizationGrid(scheme: .asymmetric, bits: bits)
            return ActivationQuantization(value: id, name: graph.values[id.index].name, bits: bits, range: range,
                                          grid: grid, parameters: try range.parameters(bits: bits))
        }
        let inputs = try inputOrder.map { try quantization($0, bits: inputBits[$0] ?? 8) }
        var outputs: [Int: ActivationQuantization] = [:]
        for (index, id) in outputIDs.enumerated() { outputs[index] = try quantization(id, bits: widths[index].activationBits) }
        return (inputs, outputs)
    }

    private func producedByReLU(_ id: ValueID) -> Bool {
        graph.nodes.contains { $0.outputs.contains(id) && $0.op == .relu }
    }

    /// Min-max in one pass; percentile needs a second pass over histograms on that range.
    private func observeRanges(_ ids: [ValueID], data: some CalibrationExamples,
                               method: CalibrationMethod) throws -> [ValueID: ActivationRange] {
        let executor = try Executor<Float>(graph: graph)
        var minMax = [MinMaxObserver](repeating: MinMaxObserver(), count: ids.count)
        var examples = 0
        try data.forEachGroup { batch in
            guard batch.rank >= 1, batch.shape[0] >= 1 else { return }
            examples += batch.shape[0]
            for (k, value) in try executor.values(ids, input: batch).enumerated() { try minMax[k].observe(value.data) }
        }
        guard examples >= 1 else { throw ExportError(.data, "the calibration data has no examples") }
        var ranges = try minMax.map { try $0.range() }
        if case .percentile(let p) = method {
            var histograms = try ranges.map { try HistogramObserver(range: $0) }
            try data.forEachGroup { batch in
                guard batch.rank >= 1, batch.shape[0] >= 1 else { return }
                for (k, value) in try executor.values(ids, input: batch).enumerated() { try histograms[k].observe(value.data) }
            }
            ranges = try histograms.map { try $0.percentileRange(p) }
        }
        return Dictionary(uniqueKeysWithValues: zip(ids, ranges))
    }
}
