import Foundation

/// Renderings of replay reports: a terminal table, JSON, and an SVG bar chart of each
/// configuration's time relative to the kernel's.
public enum ReplayOutput {
    static func milliseconds(_ nanoseconds: UInt64) -> String {
        String(format: "%.1f ms", Double(nanoseconds) / 1e6)
    }

    /// The summary table (one row per configuration) and, per configuration, the per-syscall
    /// figures, skip reasons and divergence examples.
    public static func table(_ reports: [ReplayReport], workload: String, perSyscall: Bool = true) -> String {
        var out = "workload: \(workload)\n"
        let baseline = reports.first { $0.configuration == "kernel" }?.replayNanoseconds
        let header = ["configuration", "calls", "replayed", "matched", "diverged", "skipped", "time in calls",
            "vs kernel", "wall", "setup", "RPCs"]
        var rows: [[String]] = []
        for report in reports {
            let ratio = baseline.map { $0 > 0 ? String(format: "%.2fx", Double(report.replayNanoseconds) / Double($0)) : "-" } ?? "-"
            rows.append([report.configuration, "\(report.calls)", "\(report.replayed)", "\(report.matched)",
                "\(report.diverged)", "\(report.skipped)", milliseconds(report.replayNanoseconds), ratio,
                milliseconds(report.wallNanoseconds), milliseconds(report.setupNanoseconds),
                report.rpcs.map { String($0) } ?? "-"])
        }
        out += render(header, rows)
        if let first = reports.first {
            if !first.inferredEntries.isEmpty {
                out += "manifest entries inferred from the trace (targets of dangling symlinks): "
                    + first.inferredEntries.joined(separator: ", ") + "\n"
            }
            for change in first.externalChanges {
                out += "changed outside the trace, re-applied before line \(change.line): \(change.path) -> \(change.size) bytes\n"
            }
            if first.unparsedLines > 0 { out += "unparsed lines: \(first.unparsedLines)\n" }
        }
        guard perSyscall else { return out }
        let names = Set(reports.flatMap { $0.perSyscall.keys }).sorted { a, b in
            let ca = reports.first?.perSyscall[a]?.replayed ?? 0, cb = reports.first?.perSyscall[b]?.replayed ?? 0
            return ca != cb ? ca > cb : a < b
        }
        var syscallHeader = ["syscall", "replayed"]
        for report in reports {
            syscallHeader += ["\(report.configuration) ns/op", "\(report.configuration) div"]
            if report.rpcs != nil { syscallHeader.append("\(report.configuration) RPC/op") }
        }
        var syscallRows: [[String]] = []
        for name in names {
            var row = [name, "\(reports.first?.perSyscall[name]?.replayed ?? 0)"]
            for report in reports {
                let figures = report.perSyscall[name] ?? SyscallFigures()
                let perOp = figures.replayed > 0 ? figures.nanoseconds / UInt64(figures.replayed) : 0
                row += ["\(perOp)", "\(figures.diverged)"]
                if report.rpcs != nil {
                    row.append(figures.replayed > 0
                        ? String(format: "%.2f", Double(figures.rpcs ?? 0) / Double(figures.replayed)) : "-")
                }
            }
            syscallRows.append(row)
        }
        out += "\n" + render(syscallHeader, syscallRows)
        if let first = reports.first, !first.skippedByReason.isEmpty {
            out += "\nskipped (\(first.configuration)):\n"
            for (reason, count) in first.skippedByReason.sorted(by: { $0.value > $1.value }) {
                out += "  \(String(count).leftPad(7))  \(reason)\n"
            }
        }
        for report in reports where !report.divergences.isEmpty {
            out += "\ndivergences on \(report.configuration) (first \(report.divergences.count) of \(report.diverged)):\n"
            for divergence in report.divergences {
                out += "  line \(divergence.line) pid \(divergence.pid): \(divergence.call) = \(divergence.observed), recorded \(divergence.expected)\n"
            }
        }
        return out
    }

    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == 0 ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) : cell.leftPad(widths[index])
            }.joined(separator: "  ") + "\n"
        }
        var out = line(header)
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for row in rows { out += line(row) }
        return out
    }

    public struct Document: Codable {
        public var workload: String
        public var reports: [ReplayReport]
        public init(workload: String, reports: [ReplayReport]) {
            self.workload = workload
            self.reports = reports
        }
    }

    public static func json(_ documents: [Document]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(documents)
    }

    /// A grouped bar chart: for each workload, one bar per configuration, height = time inside
    /// replayed calls relative to the kernel's (kernel = 1.0), value printed above the bar.
    public static func svg(_ documents: [Document], title: String = "Replay: time in file-system calls relative to the Linux kernel") -> String {
        var configurations: [String] = []
        for document in documents {
            for report in document.reports where !configurations.contains(report.configuration) {
                configurations.append(report.configuration)
            }
        }
        let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1"]
        var ratios: [[Double]] = []
        for document in documents {
            let kernel = document.reports.first { $0.configuration == "kernel" }?.replayNanoseconds ?? 0
            ratios.append(configurations.map { name in
                guard kernel > 0, let report = document.reports.first(where: { $0.configuration == name }) else { return 0 }
                return Double(report.replayNanoseconds) / Double(kernel)
            })
        }
        let maximum = max(1.0, ratios.joined().max() ?? 1)
        let top = (maximum * 1.15).rounded(.up)
        let barWidth = 46.0, gap = 14.0, groupGap = 60.0, left = 70.0, chartHeight = 300.0, topMargin = 60.0
        let groupWidth = Double(configurations.count) * (barWidth + gap) - gap
        let width = left + Double(documents.count) * (groupWidth + groupGap) + 40 + 150
        let height = topMargin + chartHeight + 70
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="13">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(width / 2))" y="28" text-anchor="middle" font-size="16" font-weight="bold">\(escape(title))</text>

            """
        func y(_ value: Double) -> Double { topMargin + chartHeight - value / top * chartHeight }
        let step = top <= 4 ? 0.5 : (top <= 10 ? 1 : (top / 8).rounded(.up))
        var tick = 0.0
        while tick <= top + 1e-9 {
            svg += "<line x1=\"\(left)\" x2=\"\(width - 170)\" y1=\"\(y(tick))\" y2=\"\(y(tick))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(left - 8)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(String(format: "%.1fx", tick))</text>\n"
            tick += step
        }
        svg += "<line x1=\"\(left)\" x2=\"\(width - 170)\" y1=\"\(y(1))\" y2=\"\(y(1))\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>\n"
        for (groupIndex, document) in documents.enumerated() {
            let groupX = left + 30 + Double(groupIndex) * (groupWidth + groupGap)
            for (index, ratio) in ratios[groupIndex].enumerated() where ratio > 0 {
                let x = groupX + Double(index) * (barWidth + gap)
                svg += "<rect x=\"\(x)\" y=\"\(y(ratio))\" width=\"\(barWidth)\" height=\"\(y(0) - y(ratio))\" fill=\"\(palette[index % palette.count])\"/>\n"
                svg += "<text x=\"\(x + barWidth / 2)\" y=\"\(y(ratio) - 5)\" text-anchor=\"middle\">\(String(format: "%.2fx", ratio))</text>\n"
            }
            svg += "<text x=\"\(groupX + groupWidth / 2)\" y=\"\(y(0) + 22)\" text-anchor=\"middle\" font-weight=\"bold\">\(escape(document.workload))</text>\n"
        }
        for (index, name) in configurations.enumerated() {
            let legendY = topMargin + 10 + Double(index) * 22
            svg += "<rect x=\"\(width - 150)\" y=\"\(legendY)\" width=\"14\" height=\"14\" fill=\"\(palette[index % palette.count])\"/>\n"
            svg += "<text x=\"\(width - 130)\" y=\"\(legendY + 12)\">\(escape(name))</text>\n"
        }
        svg += "<text x=\"\(left)\" y=\"\(height - 12)\" font-size=\"11\" fill=\"#555\">Sum of time inside replayed calls (lower is better); kernel = 1.0 (dashed).</text>\n"
        svg += "</svg>\n"
        return svg
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
