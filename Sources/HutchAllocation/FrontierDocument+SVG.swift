import Foundation

/// A self-contained SVG of the frontier: weight size (MB) or, for a joint allocation, BOPs (10^9)
/// on x, total Ω on y (log scale when
/// every value is positive), the frontier as a step line with dots, uniform-precision points as
/// labelled squares, and the chosen plan as a red ring. `standalone: false` leaves out the XML
/// namespace for inline use in HTML (report.html); ids and classes name the parts either way.
extension FrontierDocument {
    public func svg(width: Double = 760, height: Double = 480, standalone: Bool = true) -> String {
        let namespace = standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : ""
        let left = 86.0, right = 24.0, top = 40.0, bottom = 62.0
        let plotW = width - left - right, plotH = height - top - bottom
        let byBOPs = cost == CostKind.bops.rawValue
        let ax: (Point) -> Double = { byBOPs ? ($0.bops ?? 0) / 1e9 : $0.sizeMegabytes }
        let uax: (Uniform) -> Double = { byBOPs ? ($0.bops ?? 0) / 1e9 : $0.sizeMegabytes }
        let xs = points.map(ax) + uniform.map(uax) + (chosen.map { [ax($0)] } ?? [])
        let ys = points.map(\.omega) + uniform.map(\.omega) + (chosen.map { [$0.omega] } ?? [])
        guard let xMin0 = xs.min(), let xMax0 = xs.max(), let yMin0 = ys.min(), let yMax0 = ys.max() else {
            return "<svg\(namespace) id=\"frontier-chart\" width=\"\(Int(width))\" height=\"\(Int(height))\"><text x=\"20\" y=\"40\">no points</text></svg>\n"
        }
        let logY = yMin0 > 0
        let xPad = max((xMax0 - xMin0) * 0.04, 1e-9)
        let (xMin, xMax) = (max(0, xMin0 - xPad), xMax0 + xPad)
        func ty(_ y: Double) -> Double { logY ? log10(y) : y }
        var (yLo, yHi) = (ty(yMin0), ty(yMax0))
        if yHi - yLo < 1e-12 { yLo -= 0.5; yHi += 0.5 }
        let yPad = (yHi - yLo) * 0.05
        yLo -= yPad; yHi += yPad
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (ty(y) - yLo) / (yHi - yLo)) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var s = "<svg\(namespace) id=\"frontier-chart\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Pareto frontier: \(byBOPs ? "BOPs" : "weight size") vs Ω (\(escape(objective)))</text>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#444\"/>\n"
        // x ticks
        for tick in niceTicks(xMin, xMax, count: 6) {
            let x = px(tick)
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH + 5))\" stroke=\"#444\"/>"
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(x))\" y=\"\(f(top + plotH + 19))\" text-anchor=\"middle\">\(label(tick))</text>\n"
        }
        // y ticks: decades on a log axis, round numbers otherwise
        let yTicks: [Double] = logY
            ? stride(from: floor(yLo), through: ceil(yHi), by: 1).filter { $0 >= yLo && $0 <= yHi }.map { pow(10, $0) }
            : niceTicks(yLo, yHi, count: 6)
        for tick in yTicks {
            let y = py(tick)
            s += "<line x1=\"\(f(left - 5))\" y1=\"\(f(y))\" x2=\"\(f(left))\" y2=\"\(f(y))\" stroke=\"#444\"/>"
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(logY ? String(format: "%.0e", tick) : label(tick))</text>\n"
        }
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(byBOPs ? "bit operations per example (10^9)" : "weight size (MB, 10^6 bytes)")</text>\n"
        s += "<text transform=\"translate(18 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">total Ω\(logY ? " (log scale)" : "")</text>\n"
        // frontier: step line (Ω holds until the next point) and dots
        if !points.isEmpty {
            var path = "M\(f(px(ax(points[0])))),\(f(py(points[0].omega)))"
            for p in points.dropFirst() {
                path += " H\(f(px(ax(p)))) V\(f(py(p.omega)))"
            }
            s += "<path d=\"\(path)\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>\n"
            let step = max(1, points.count / 400)   // keep the file small for huge frontiers
            for (i, p) in points.enumerated() where i % step == 0 || i == points.count - 1 {
                s += "<circle class=\"frontier-point\" cx=\"\(f(px(ax(p))))\" cy=\"\(f(py(p.omega)))\" r=\"2\" fill=\"#1f77b4\"/>"
            }
            s += "\n"
        }
        for u in uniform {
            let x = px(uax(u)), y = py(u.omega)
            s += "<g class=\"uniform-point\" data-bits=\"\(u.bits)\"><rect x=\"\(f(x - 4))\" y=\"\(f(y - 4))\" width=\"8\" height=\"8\" fill=\"#ff7f0e\" stroke=\"#333\"/>"
            s += "<text x=\"\(f(x + 7))\" y=\"\(f(y - 6))\" fill=\"#b35900\">\(u.bits)-bit</text></g>\n"
        }
        if let c = chosen {
            let x = px(ax(c)), y = py(c.omega)
            s += "<g id=\"chosen-plan\"><circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"7\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2.5\"/>"
            s += "<text x=\"\(f(x + 10))\" y=\"\(f(y + 16))\" fill=\"#d62728\">plan</text></g>\n"
        }
        // legend
        let lx = left + plotW - 190, ly = top + 12
        s += "<rect x=\"\(f(lx - 8))\" y=\"\(f(ly - 12))\" width=\"190\" height=\"62\" fill=\"white\" stroke=\"#ccc\"/>"
        s += "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 18))\" y2=\"\(f(ly))\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/><text x=\"\(f(lx + 24))\" y=\"\(f(ly + 4))\">Pareto frontier (\(points.count) points)</text>"
        s += "<rect x=\"\(f(lx + 5))\" y=\"\(f(ly + 14))\" width=\"8\" height=\"8\" fill=\"#ff7f0e\" stroke=\"#333\"/><text x=\"\(f(lx + 24))\" y=\"\(f(ly + 22))\">uniform precision</text>"
        s += "<circle cx=\"\(f(lx + 9))\" cy=\"\(f(ly + 36))\" r=\"6\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2.5\"/><text x=\"\(f(lx + 24))\" y=\"\(f(ly + 40))\">chosen plan</text>\n"
        s += "</svg>\n"
        return s
    }
}

private func niceTicks(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
    let span = hi - lo
    guard span > 0, span.isFinite else { return [lo] }
    let raw = span / Double(count)
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    var ticks: [Double] = []
    var t = ceil(lo / step) * step
    while t <= hi + step * 1e-9 { ticks.append(t); t += step }
    return ticks
}

private func label(_ v: Double) -> String {
    if v == 0 { return "0" }
    if abs(v) >= 1e5 || abs(v) < 1e-3 { return String(format: "%.1e", v) }
    return formatNumber((v * 1e6).rounded() / 1e6)
}

private func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}
