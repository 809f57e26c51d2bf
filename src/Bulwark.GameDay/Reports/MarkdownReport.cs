using System.Globalization;
using System.Text;

namespace Bulwark.GameDay.Reports;

/// <summary>Writes the post-incident report as Markdown: per scenario the timeline, the impact and each "must hold" line.</summary>
internal static class MarkdownReport
{
    public static string Write(GameDayReport report)
    {
        var md = new StringBuilder();
        var passed = report.Scenarios.Count(s => s.Passed);
        md.AppendLine(Inv($"# Bulwark game day — {(report.Passed ? "PASSED" : "FAILED")}"));
        md.AppendLine();
        md.AppendLine(Inv($"Started {report.StartedAt:yyyy-MM-dd HH:mm:ss} UTC on store `{report.Store}`{(report.Quick ? " (--quick)" : "")}; {report.DurationSeconds:0.0} s in total; {passed} of {report.Scenarios.Count} scenarios passed."));
        md.AppendLine();
        md.AppendLine("| scenario | result | checks | duration |");
        md.AppendLine("|---|---|---|---|");
        foreach (var s in report.Scenarios)
        {
            md.AppendLine(Inv($"| [{s.Name}](#{s.Name}) | {(s.Passed ? "pass" : "**FAIL**")} | {s.Checks.Count(c => c.Passed)}/{s.Checks.Count} | {s.DurationSeconds:0.0} s |"));
        }

        foreach (var n in report.NotRun)
        {
            md.AppendLine(Inv($"| {n.Name} | not run | — | — |"));
        }

        foreach (var s in report.Scenarios)
        {
            md.AppendLine();
            md.AppendLine(Inv($"## {s.Name}"));
            md.AppendLine();
            md.AppendLine(Inv($"**Injected:** {s.Injected}  "));
            md.AppendLine(Inv($"**Result:** {(s.Passed ? "pass" : "FAIL")}, {s.DurationSeconds:0.0} s{(s.Artifacts is null ? "" : $"; logs in `{s.Artifacts}`")}"));
            md.AppendLine();
            md.AppendLine("### Timeline");
            md.AppendLine();
            md.AppendLine("| T | event | detail |");
            md.AppendLine("|---|---|---|");
            foreach (var t in s.Timeline.OrderBy(t => t.Seconds))
            {
                md.AppendLine(Inv($"| T{(t.Seconds >= 0 ? "+" : "")}{t.Seconds:0.00} s | {t.Event} | {Cell(t.Detail)} |"));
            }

            var i = s.Impact;
            md.AppendLine();
            md.AppendLine("### Impact");
            md.AppendLine();
            md.AppendLine("Latency is enqueue to completion (store clock); throughput counts completions per second before T+0, from T+0 until service returned, and after.");
            md.AppendLine();
            md.AppendLine("| enqueued | acknowledged | completed | lost | executed twice | failed | dead-lettered | peak latency | p95 latency | throughput before / during / after service returned |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
            md.AppendLine(Inv($"| {i.Enqueued} | {i.Acknowledged} | {i.Completed} | {i.Lost} | {i.ExecutedTwice} | {i.Failed} | {i.DeadLettered} | {i.PeakLatencySeconds:0.00} s | {i.P95LatencySeconds:0.00} s | {i.ThroughputBefore:0.0} / {i.ThroughputDuring:0.0} / {i.ThroughputAfter:0.0} jobs/s |"));
            md.AppendLine();
            md.AppendLine("### Must hold");
            md.AppendLine();
            md.AppendLine("| | line | evidence |");
            md.AppendLine("|---|---|---|");
            foreach (var c in s.Checks)
            {
                md.AppendLine(Inv($"| {(c.Passed ? "pass" : "**FAIL**")} | {Cell(c.Line)} | {Cell(c.Evidence)} |"));
            }

            if (s.Notes.Count > 0)
            {
                md.AppendLine();
                foreach (var note in s.Notes)
                {
                    md.AppendLine(Inv($"- {note}"));
                }
            }
        }

        if (report.NotRun.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Not run");
            md.AppendLine();
            foreach (var n in report.NotRun)
            {
                md.AppendLine(Inv($"- **{n.Name}**: {n.Reason}"));
            }
        }

        return md.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
