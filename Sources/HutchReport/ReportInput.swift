import HutchAllocation

/// Everything one report.html shows, already parsed; every part but the sensitivity is optional.
public struct ReportInput: Sendable {
    public var sensitivity: SensitivityReport
    public var plan: Plan?
    /// The size-vs-Ω frontier with uniform points and the chosen plan (frontier.json, or computed).
    public var frontier: FrontierDocument?
    public var run: RunRecord?
    public var evaluation: Evaluation?

    public init(sensitivity: SensitivityReport, plan: Plan? = nil, frontier: FrontierDocument? = nil,
                run: RunRecord? = nil, evaluation: Evaluation? = nil) {
        self.sensitivity = sensitivity
        self.plan = plan
        self.frontier = frontier
        self.run = run
        self.evaluation = evaluation
    }
}
