import Foundation
import HutchAllocation

/// Two SVGs side by side with one row per layer: the trace with its standard error (log scale
/// when the traces span more than two decades) and the plan's weight width, colored by width.
extension ReportBuilder {
    static let rowHeight = 22.0, chartTop = 36.0, chartBottom = 44.0

    static func layerCharts(_ s: SensitivityReport, plan: Plan?) -> String {
        var html = "<section><h2>Per-layer sensitivity and bit widths</h2><div class=\"charts\">"
        html += sensitivityChart(s)
        if let plan { html += bitsChart(s, plan: plan) }
        html += "</div>"
        html += "<p class=\"note\">Bars: Tr(H<sub>ll</sub>); whiskers: ± one standard error (Hutchinson; exact traces have none).</p></section>\n"
        return html
    }

    static func label(_ node: String) -> String {
        node.count > 30 ? "…" + node.suffix(29) : node
    }

    static func sensitivityChart(_ s: SensitivityReport) -> String {
        let width = 740.0, labelWidth = 214.0, valueWidth = 96.0
        let plotLeft = labelWidth + 8, plotWidth = width - plotLeft - valueWidth - 8
        let height = chartTop + Double(s.layers.count) * rowHeight + chartBottom
        let traces = s.layers.map(\.trace)
        let upper = s.layers.map { $0.trace + ($0.standardError ?? 0) }
        let positive = traces.filter { $0 > 0 }
        let high = upper.max() ?? 0
        let logScale = (positive.min().map { high / $0 > 100 }) ?? false
        // axis range: decades on a log axis, 0 … max on a linear one
        let (lo, hi): (Double, Double)
        if logScale, let smallest = positive.min() {
            let a = floor(log10(smallest)), b = ceil(log10(high))
            (lo, hi) = (a, b > a ? b : a + 1)
        } else {
            (lo, hi) = (0, high > 0 ? high * 1.05 : 1)
        }
        func x(_ value: Double) -> Double {
            let t = logScale ? (value > 0 ? (log10(value) - lo) / (hi - lo) : 0) : (value - lo) / (hi - lo)
            return plotLeft + min(1, max(0, t)) * plotWidth
        }
        let plotBottom = chartTop + Double(s.layers.count) * rowHeight
        var svg = "<svg id=\"sensitivity-chart\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-size=\"12\" role=\"img\" aria-label=\"per-layer Hessian trace\">"
        svg += "<text x=\"\(px(plotLeft))\" y=\"18\" font-size=\"14\" font-weight=\"bold\">Hessian trace per layer\(logScale ? " (log scale)" : "")</text>"
        svg += "<text x=\"\(px(width - 4))\" y=\"\(px(chartTop - 6))\" text-anchor=\"end\" fill=\"#555\">Tr(H) ± s.e.</text>"
        // grid and ticks
        let ticks: [Double] = logScale ? stride(from: lo, through: hi, by: 1).map { pow(10, $0) } : linearTicks(hi)
        for tick in ticks {
            let tx = x(tick)
            svg += "<line x1=\"\(px(tx))\" y1=\"\(px(chartTop))\" x2=\"\(px(tx))\" y2=\"\(px(plotBottom))\" stroke=\"#e6e6e6\"/>"
            svg += "<text x=\"\(px(tx))\" y=\"\(px(plotBottom + 16))\" text-anchor=\"middle\" fill=\"#444\">\(number(tick, digits: 2))</text>"
        }
        svg += "<line x1=\"\(px(plotLeft))\" y1=\"\(px(plotBottom))\" x2=\"\(px(plotLeft + plotWidth))\" y2=\"\(px(plotBottom))\" stroke=\"#444\"/>"
        svg += "<text x=\"\(px(plotLeft + plotWidth / 2))\" y=\"\(px(plotBottom + 34))\" text-anchor=\"middle\">Tr(H<tspan font-size=\"9\" dy=\"3\">ll</tspan><tspan dy=\"-3\">) of the mean cross-entropy loss</tspan></text>"
        for (i, layer) in s.layers.enumerated() {
            let top = chartTop + Double(i) * rowHeight, mid = top + rowHeight / 2
            let name = escape(layer.node)
            let se = layer.standardError ?? 0
            svg += "<g class=\"layer-bar\" data-layer=\"\(name)\" data-trace=\"\(layer.trace)\">"
            svg += "<title>\(name) (\(escape(layer.op)), \(grouped(layer.parameters)) parameters): trace \(number(layer.trace, digits: 4))"
            svg += se > 0 ? " ± \(number(se, digits: 2))" : ""
            svg += ", per parameter \(number(layer.tracePerParameter, digits: 3))</title>"
            svg += "<text x=\"\(px(labelWidth))\" y=\"\(px(mid + 4))\" text-anchor=\"end\">\(escape(label(layer.node)))</text>"
            let end = x(layer.trace)
            svg += "<rect x=\"\(px(plotLeft))\" y=\"\(px(top + 4))\" width=\"\(px(max(end - plotLeft, layer.trace > 0 ? 1 : 0)))\" height=\"\(px(rowHeight - 8))\" fill=\"#4c78a8\"/>"
            if se > 0 {
                let a = x(layer.trace - se), b = x(layer.trace + se)
                svg += "<path class=\"error-bar\" d=\"M\(px(a)),\(px(mid)) H\(px(b)) M\(px(a)),\(px(mid - 5)) V\(px(mid + 5)) M\(px(b)),\(px(mid - 5)) V\(px(mid + 5))\" stroke=\"#222\" stroke-width=\"1.2\" fill=\"none\"/>"
            }
            let value = number(layer.trace, digits: 3) + (se > 0 ? " ± " + number(se, digits: 2) : "")
            svg += "<text x=\"\(px(width - 4))\" y=\"\(px(mid + 4))\" text-anchor=\"end\" fill=\"#333\">\(value)</text>"
            svg += "</g>"
        }
        return svg + "</svg>"
    }

    static func linearTicks(_ hi: Double) -> [Double] {
        guard hi > 0, hi.isFinite else { return [0] }
        let raw = hi / 5, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        return stride(from: 0.0, through: hi, by: step).map { $0 }
    }

    static func bitsChart(_ s: SensitivityReport, plan: Plan) -> String {
        let width = 330.0, barMax = 200.0, left = 8.0
        let widths = Array(Set(plan.candidateBits + plan.layers.map(\.weightBits))).sorted()
        let height = chartTop + Double(s.layers.count) * rowHeight + max(chartBottom, 22 + Double((widths.count + 7) / 8) * 16)
        let byNode = Dictionary(plan.layers.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        let widest = Double(max(8, plan.candidateBits.max() ?? 8, plan.layers.map(\.weightBits).max() ?? 8))
        var svg = "<svg id=\"bits-chart\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-size=\"12\" role=\"img\" aria-label=\"weight bits per layer\">"
        svg += "<text x=\"\(px(left))\" y=\"18\" font-size=\"14\" font-weight=\"bold\">Weight bits (plan)</text>"
        for (i, layer) in s.layers.enumerated() {
            let top = chartTop + Double(i) * rowHeight, mid = top + rowHeight / 2
            guard let entry = byNode[layer.node] else {
                svg += "<text x=\"\(px(left))\" y=\"\(px(mid + 4))\" fill=\"#999\">not in plan</text>"
                continue
            }
            let bits = entry.weightBits
            let tag = (entry.pinned ? " pinned" : "") + (entry.tiedWith.isEmpty ? "" : " tied with " + entry.tiedWith.map(escape).joined(separator: ", "))
            svg += "<g class=\"bits-bar\" data-layer=\"\(escape(layer.node))\" data-bits=\"\(bits)\">"
            svg += "<title>\(escape(layer.node)): \(bits)-bit weights, Ω \(number(entry.omega, digits: 3))\(tag)</title>"
            svg += "<rect x=\"\(px(left))\" y=\"\(px(top + 4))\" width=\"\(px(Double(bits) / widest * barMax))\" height=\"\(px(rowHeight - 8))\" fill=\"\(bitsColor(bits))\"/>"
            svg += "<text x=\"\(px(left + Double(bits) / widest * barMax + 6))\" y=\"\(px(mid + 4))\">\(bits)\(entry.pinned ? " (pinned)" : "")</text>"
            svg += "</g>"
        }
        // legend: one swatch per candidate width
        let legendY = chartTop + Double(s.layers.count) * rowHeight + 14
        svg += "<g class=\"bits-legend\">"
        for (i, bits) in widths.enumerated() {
            let lx = left + Double(i % 8) * 40, ly = legendY + Double(i / 8) * 16
            svg += "<rect class=\"bits-legend-item\" x=\"\(px(lx))\" y=\"\(px(ly))\" width=\"12\" height=\"12\" fill=\"\(bitsColor(bits))\"/>"
            svg += "<text x=\"\(px(lx + 16))\" y=\"\(px(ly + 10))\">\(bits)</text>"
        }
        return svg + "</g></svg>"
    }
}
