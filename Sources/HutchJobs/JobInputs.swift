import Foundation
import HutchClusterCore
import HutchModel

/// The model and calibration data of a trace or cluster job: as given, or the embedded example.
public struct JobInputs: Sendable {
    public var model: String
    public var data: DataSource
    /// The embedded example's data, which sensitivity.json records without a digest (as the schema says).
    public var embeddedData = false
    /// The loss head `--loss` names (nil: chosen by the labels); the data must be for it.
    public var loss: String?

    /// `model` with `data`; with no model, the embedded example (its data unless `data` is given).
    public static func locate(model: String?, data: DataSource?, loss: String? = nil) throws -> JobInputs {
        var inputs = try locate(model: model, data: data)
        inputs.loss = loss
        return inputs
    }

    private static func locate(model: String?, data: DataSource?) throws -> JobInputs {
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

    /// The data set and its digest (nil for the embedded example); with `keepingExamples: n`,
    /// holding the first n examples only; `files` keeps the files open for later reads.
    public func loadData(keepingExamples: Int? = nil, files: OpenDataFiles = OpenDataFiles()) throws -> (dataset: Dataset, digest: String?) {
        let (dataset, digest) = try data.load(keepingExamples: keepingExamples, files: files)
        return (try dataset.requiring(loss: loss), embeddedData ? nil : digest)
    }
}
