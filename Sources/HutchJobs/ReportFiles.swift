import Foundation
import HutchAllocation
import HutchModel
import HutchReport

/// The files of one job's output directory that the report reads, checked against each other.
struct ReportFiles {
    var directory: String
    var sensitivity: SensitivityReport
    var sensitivityDigest: String
    var plan: Plan?
    var run: RunRecord?
    var savedFrontier: FrontierDocument?

    func path(_ name: String) -> String { URL(fileURLWithPath: directory).appendingPathComponent(name).path }

    static func load(_ directory: String) throws -> ReportFiles {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure(.io, "'\(directory)' is not a directory; give the --out DIR of `hutch run` / `hutch coordinator`")
        }
        func path(_ name: String) -> String { URL(fileURLWithPath: directory).appendingPathComponent(name).path }
        func optional(_ name: String) throws -> Data? {
            FileManager.default.fileExists(atPath: path(name)) ? try readFile(path(name), what: name) : nil
        }
        let sensitivityPath = path("sensitivity.json")
        let sensitivityData = try readFile(sensitivityPath, what: "sensitivity file")
        let sensitivity = try SensitivityReport.decode(sensitivityData, source: sensitivityPath)
        let digest = Digest.sha256(sensitivityData)
        var files = ReportFiles(directory: directory, sensitivity: sensitivity, sensitivityDigest: digest)
        if let data = try optional("plan.json") {
            let plan = try Plan.decode(data, source: path("plan.json"))
            guard plan.sensitivityDigest == digest else {
                throw CommandFailure(.invalidSensitivity, "\(path("plan.json")): solved from sensitivity \(plan.sensitivityDigest), but \(sensitivityPath) is \(digest); re-run `hutch plan` on it")
            }
            files.plan = plan
        }
        if let data = try optional("run.json") {
            do {
                files.run = try RunRecord.decode(data, source: path("run.json"))
            } catch let error as ReportError {
                throw CommandFailure(.invalidSensitivity, error.description)
            }
        }
        if let data = try optional("frontier.json") {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            guard let frontier = try? decoder.decode(FrontierDocument.self, from: data), frontier.format == "hutch.frontier" else {
                throw CommandFailure(.invalidSensitivity, "\(path("frontier.json")): not a hutch.frontier file; remove it or re-make it with `hutch plan --frontier`")
            }
            // a frontier of another sensitivity file, objective or plan is not this job's: computed anew instead
            let plan = files.plan
            if frontier.sensitivityDigest == digest && frontier.objective == (plan?.objective ?? frontier.objective)
                && (plan == nil || frontier.chosen?.bits == plan?.layers.map(\.weightBits)) {
                files.savedFrontier = frontier
            }
        }
        return files
    }

    /// frontier.json when it belongs to these files, else computed from the sensitivity and the
    /// plan's request (candidates, objective, pins, ties); without a plan, from the default
    /// request when the sensitivity has quantization errors; nil otherwise.
    func frontier() throws -> FrontierDocument? {
        if let savedFrontier { return savedFrontier }
        var request: AllocationRequest
        if let plan {
            guard let objective = Objective(rawValue: plan.objective) else {
                throw CommandFailure(.invalidSensitivity, "\(path("plan.json")): unknown objective '\(plan.objective)'")
            }
            var groups: [Set<String>] = []
            for layer in plan.layers where !layer.tiedWith.isEmpty {
                let group = Set([layer.node] + layer.tiedWith)
                if !groups.contains(group) { groups.append(group) }
            }
            request = AllocationRequest(bits: plan.candidateBits, objective: objective,
                                        pins: plan.layers.filter(\.pinned).map { Pin(layer: .name($0.node), bits: $0.weightBits) },
                                        ties: TieSpec(auto: false, groups: groups.map { $0.sorted().map { LayerSelector.name($0) } }),
                                        activationBits: plan.activationBits)
            request.activationCandidates = plan.activationCandidateBits
        } else {
            guard sensitivity.layers.allSatisfy({ $0.quantizationError != nil }) else { return nil }
            request = AllocationRequest(bits: sensitivity.quantization?.bits ?? AllocationRequest.defaultBits)
        }
        let problem = try AllocationProblem(report: sensitivity, request: request, source: path("sensitivity.json"))
        let chosen = plan.map { FrontierPoint(sizeBits: $0.totals.sizeBits, omega: $0.totals.omega, bits: $0.layers.map(\.weightBits),
                                              activationBits: $0.activationCandidateBits == nil ? nil : $0.layers.map(\.activationBits),
                                              bops: $0.activationCandidateBits == nil ? nil : $0.totals.bops) }
        return FrontierDocument(problem: problem, frontier: problem.frontier(), chosen: chosen, sensitivityDigest: sensitivityDigest)
    }
}
