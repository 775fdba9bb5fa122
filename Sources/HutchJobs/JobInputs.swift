import Foundation
import HutchClusterCore
import HutchModel

/// The model and calibration data of a trace or cluster job: as given, or the embedded example.
public struct JobInputs: Sendable {
    public var model: String
    public var data: DataSource
    /// The embedded example's data, which sensitivity.json records without a digest (as the schema says).
    public var embeddedData = false

    /// `model` with `data`; with no model, the embedded example (its data unless `data` is given).
    public static func locate(model: String?, data: DataSource?) throws -> JobInputs {
        guard let model else {
            let examples = try ExampleFiles.directory()
            guard let data else {
                return JobInputs(model: examples.model, data: .npz(examples.data), embeddedData: true)
            }
            return JobInputs(model: examples.model, data: data)
        }
        guard let data else {
            throw CommandFailure(.usage, "--model needs calibration data: --data D.npz (arrays x, y; or one array per model input and y) or --inputs X.npy --labels Y.npy")
        }
        return JobInputs(model: model, data: data)
    }

    /// The data set and its digest (nil for the embedded example).
    public func loadData() throws -> (dataset: Dataset, digest: String?) {
        let (dataset, digest) = try data.load()
        return (dataset, embeddedData ? nil : digest)
    }
}
