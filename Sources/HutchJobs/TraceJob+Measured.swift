import HutchAllocation
import HutchModel
import HutchSensitivity

extension TraceJob {
    /// `hutch trace --measured`: the measured loss increase of every layer at every width of
    /// `--bits`, into the report beside the second-order values.
    func addMeasured(_ report: inout SensitivityReport, graph: Graph, dataset: Dataset) throws {
        guard !options.bits.isEmpty else {
            throw CommandFailure(.usage, "--measured quantizes each layer at the widths of --bits; give --bits (not 'none')")
        }
        let used = options.samples.map { dataset.prefix($0) } ?? dataset
        log("measured: \(graph.quantizableLayers.count) layers × \(options.bits.count) widths, one forward pass over \(used.count) examples each")
        let measure = MeasuredLossIncrease(graph: graph, dataset: used, bits: options.bits, loss: ClassifierMetrics.loss)
        let (base, increases) = try measure.run()
        report.job.measuredBaseLoss = base
        for (index, byWidth) in increases.enumerated() {
            report.layers[index].measuredLossIncrease = Dictionary(uniqueKeysWithValues: byWidth.map { (String($0.key), $0.value) })
        }
    }
}
