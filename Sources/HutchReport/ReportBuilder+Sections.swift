import HutchAllocation

/// The frontier with the plan's summary, the accuracy/size table and the per-layer table.
extension ReportBuilder {
    static func frontierSection(_ frontier: FrontierDocument?, plan: Plan?) -> String {
        var html = "<section><h2>Pareto frontier</h2><div class=\"frontier\">"
        if let frontier {
            html += frontier.svg(width: 740, height: 440, standalone: false)
        } else {
            html += "<p id=\"frontier-missing\" class=\"note\">No frontier: sensitivity.json has no quantization errors and no plan asked for the trace objective.</p>"
        }
        if let plan { html += planSummary(plan) }
        html += "</div>"
        if let frontier {
            html += "<p class=\"note\">\(frontier.points.count) non-dominated allocations (candidates, pins and ties of the plan; budgets ignored). Squares: every layer at one width.</p>"
        }
        return html + "</section>\n"
    }

    static func planSummary(_ plan: Plan) -> String {
        let t = plan.totals
        var rows = row("objective", escape(plan.objective))
        rows += row("candidates", plan.candidateBits.map(String.init).joined(separator: ", ") + " bits")
        rows += row("weights", "\(number(t.sizeMegabytes, digits: 4)) MB, \(number(t.averageBits)) bits average")
        rows += row("total Ω", number(t.omega, digits: 4))
        if let bops = t.bops { rows += row("BOPs", number(bops / 1e9, digits: 4) + " G per example") }
        if let latency = t.latencyMs { rows += row("latency", number(latency, digits: 4) + " ms") }
        for budget in plan.budgets {
            rows += row("budget", escape(budget.given) + ": \(number(budget.utilization * 100, digits: 4)) % used" + (budget.binding ? ", binding" : ""))
        }
        let solver = escape(plan.solver.name) + " (" + escape(plan.solver.algorithm) + ")"
        rows += row("solver", solver + (plan.solver.provenOptimal ? ", proven optimal" : ", gap ≤ \(number(plan.solver.relativeGap * 100)) %"))
        return "<div><table id=\"plan-summary\" class=\"kv\"><caption>Chosen plan</caption>\(rows)</table></div>"
    }

    static func accuracySection(_ evaluation: Evaluation?) -> String {
        guard let evaluation else {
            return "<section><h2>Accuracy and size</h2><p class=\"note\" id=\"accuracy-missing\">Not evaluated: run <code>hutch report DIR --data D.npz</code> to add accuracy and size.</p></section>\n"
        }
        let float = evaluation.rows.first { $0.bits == nil }?.weightBytes
        var html = "<section><h2>Accuracy and size</h2><table id=\"accuracy-table\"><thead><tr><th>weights</th><th>bits per layer</th>"
        html += "<th class=\"num\">accuracy</th><th class=\"num\">loss</th><th class=\"num\">weight bytes</th><th class=\"num\">vs float</th></tr></thead><tbody>"
        for r in evaluation.rows {
            let bits = r.bits.map(compactBits) ?? "–"
            let ratio = float.map { r.weightBytes > 0 ? String(format: "%.2f×", Double($0) / Double(r.weightBytes)) : "–" } ?? "–"
            html += "<tr class=\"accuracy-row\"><td>\(escape(r.name))</td><td>\(bits)</td><td class=\"num\">\(String(format: "%.2f %%", r.accuracy * 100))</td>"
            html += "<td class=\"num\">\(String(format: "%.4f", r.loss))</td><td class=\"num\">\(grouped(r.weightBytes))</td><td class=\"num\">\(ratio)</td></tr>"
        }
        html += "</tbody></table><p class=\"note\">On \(grouped(evaluation.examples)) examples of \(escape(evaluation.data)); quantized rows use Hutch's fake-quantized forward "
        html += "(8-bit activations calibrated min-max on the same data, as <code>hutch quantize</code>); weight bytes: float32 weights of the quantized layers, or their packed .hutchq file.</p></section>\n"
        return html
    }

    /// "8 ×7" for equal widths, "8,6,5,3" otherwise.
    static func compactBits(_ bits: [Int]) -> String {
        if let first = bits.first, bits.allSatisfy({ $0 == first }) { return "\(first) ×\(bits.count)" }
        return bits.map(String.init).joined(separator: ",")
    }

    static func layerTable(_ s: SensitivityReport, plan: Plan?) -> String {
        let byNode = Dictionary((plan?.layers ?? []).map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        var html = "<section><h2>Layers</h2><table id=\"layer-table\"><thead><tr><th>#</th><th>node</th><th>op</th><th>shape</th>"
        html += "<th class=\"num\">parameters</th><th class=\"num\">trace</th><th class=\"num\">± s.e.</th><th class=\"num\">trace / param</th><th class=\"num\">probes</th>"
        html += plan == nil ? "" : "<th class=\"num\">bits</th><th class=\"num\">Ω</th>"
        html += "</tr></thead><tbody>"
        for layer in s.layers {
            html += "<tr class=\"layer-row\"><td>\(layer.index)</td><td>\(escape(layer.node))</td><td>\(escape(layer.op))</td>"
            html += "<td>\(layer.shape.map(String.init).joined(separator: "×"))</td><td class=\"num\">\(grouped(layer.parameters))</td>"
            html += "<td class=\"num\">\(number(layer.trace, digits: 4))</td><td class=\"num\">\(layer.standardError.map { $0 > 0 ? number($0, digits: 2) : "–" } ?? "exact")</td>"
            html += "<td class=\"num\">\(number(layer.tracePerParameter, digits: 3))</td><td class=\"num\">\(layer.probes.map(String.init) ?? "–")</td>"
            if plan != nil {
                let entry = byNode[layer.node]
                html += "<td class=\"num\">\(entry.map { String($0.weightBits) + ($0.pinned ? " (pinned)" : "") } ?? "–")</td>"
                html += "<td class=\"num\">\(entry.map { number($0.omega, digits: 3) } ?? "–")</td>"
            }
            html += "</tr>"
        }
        return html + "</tbody></table></section>\n"
    }
}
