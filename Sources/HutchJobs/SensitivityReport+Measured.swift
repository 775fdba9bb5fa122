import HutchAllocation

extension SensitivityReport {
    /// Writes the measured objective (`job.measured_base_loss`, `layers[].measured_loss_increase`),
    /// as `hutch trace --measured` and the cluster jobs both write it.
    mutating func setMeasured(baseLoss: Double, increases: [[Int: Double]]) {
        job.measuredBaseLoss = baseLoss
        for (index, byWidth) in increases.enumerated() where layers.indices.contains(index) {
            layers[index].measuredLossIncrease = Dictionary(uniqueKeysWithValues: byWidth.map { (String($0.key), $0.value) })
        }
    }
}
