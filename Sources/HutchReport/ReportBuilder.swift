import HutchAllocation

/// Builds report.html: one self-contained page (inline CSS and SVG, no script, no external
/// resource) from parsed inputs. Pure: no files, no clock, no network. Every string taken from
/// an input goes through `escape`. Elements tests look for carry stable ids and classes:
/// `#job-metadata`, `#run-metadata`, `#sensitivity-chart` (`.layer-bar` per layer, `.error-bar`),
/// `#bits-chart` (`.bits-bar` per layer, `.bits-legend`), `#frontier-chart` (`.frontier-point`,
/// `.uniform-point`, `#chosen-plan`), `#plan-summary`, `#accuracy-table`, `#layer-table`.
public enum ReportBuilder {
    public static func html(_ input: ReportInput) -> String {
        let s = input.sensitivity
        var body = "<header><h1>Hutch report</h1><p class=\"subtitle\">\(s.layers.count) quantizable layers · "
        body += "\(escape(s.job.method)) traces on \(s.job.samples) examples"
        if let plan = input.plan {
            body += " · plan: \(number(plan.totals.averageBits)) bits average, \(number(plan.totals.sizeMegabytes, digits: 4)) MB of weights"
        }
        body += "</p></header>\n"
        body += "<section class=\"meta\">" + jobTable(s) + runTable(input.run) + "</section>\n"
        body += layerCharts(s, plan: input.plan)
        body += frontierSection(input.frontier, plan: input.plan)
        body += accuracySection(input.evaluation)
        body += layerTable(s, plan: input.plan)
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Hutch report</title>
        <style>\(css)</style>
        </head>
        <body>
        \(body)<footer>Written by hutch\(s.job.toolVersion.isEmpty ? "" : " " + escape(s.job.toolVersion)). Sensitivity: Tr(H<sub>ll</sub>) of the mean cross-entropy w.r.t. each layer's weights; Ω<sub>l</sub>(b) as in plan.json's objective.</footer>
        </body>
        </html>

        """
    }

    static let css = """
    body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1160px;padding:0 16px;color:#222;background:#fff}
    h1{margin:0 0 4px;font-size:26px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
    .subtitle{margin:0;color:#555}caption{font-weight:bold;text-align:left;padding:0 8px 4px}
    .meta{display:grid;grid-template-columns:1fr 1fr;gap:24px;margin-top:16px}
    table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;text-align:left;vertical-align:top}
    th{background:#f3f3f3}tr:nth-child(even) td{background:#fafafa}
    table.kv th{background:none;color:#555;font-weight:normal;white-space:nowrap}
    td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
    .digest{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}
    .charts{display:flex;gap:8px;align-items:flex-start;overflow-x:auto}
    .frontier{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}
    .note{color:#666;font-size:12px;margin:4px 0}
    footer{margin-top:32px;color:#777;font-size:12px}
    svg text{font-family:inherit}
    """

    /// `<tr><th>key</th><td>value</td></tr>`; `value` is already HTML.
    static func row(_ key: String, _ value: String) -> String { "<tr><th>\(key)</th><td>\(value)</td></tr>" }
}
