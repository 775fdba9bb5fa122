import Foundation
import HutchClusterCore
import HutchReport

/// `hutch report DIR`: rebuilds DIR/report.html from DIR's sensitivity.json (required), plan.json,
/// frontier.json and run.json (optional); on request, with accuracy, loss and weight size measured.
public enum ReportJob {
    /// What to measure accuracy on: the data (default: the embedded example's, for its model) and
    /// the float model (default: the model in run.json, or the embedded example).
    public struct EvaluationRequest {
        public var data: DataSource?
        public var model: String?
        /// The loss head `--loss` names (nil: chosen by the labels); `data` must be for it.
        public var loss: String?

        public init(data: DataSource?, model: String?, loss: String? = nil) {
            self.data = data
            self.model = model
            self.loss = loss
        }
    }

    /// Builds the report from DIR's files and writes it (default DIR/report.html); returns the path written.
    public static func write(directory: String, evaluate: EvaluationRequest?, out: String?) throws -> String {
        let files = try ReportFiles.load(directory)
        var input = ReportInput(sensitivity: files.sensitivity, plan: files.plan, frontier: try files.frontier(), run: files.run)
        if let evaluate { input.evaluation = try ReportEvaluation.measure(files, request: evaluate) }
        let path = out ?? files.path("report.html")
        try writeAtomically(Data(ReportBuilder.html(input).utf8), to: path)
        return path
    }
}
