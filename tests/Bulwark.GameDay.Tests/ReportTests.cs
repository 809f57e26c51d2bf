using System.Text.Json;
using Bulwark.GameDay.Counting;
using Bulwark.GameDay.Load;
using Bulwark.GameDay.Reports;
using Bulwark.GameDay.Scenarios;

namespace Bulwark.GameDay.Tests;

public sealed class ReportTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Measurement Measure(IReadOnlyList<string> lines, params long[] completed)
    {
        Ack[] acks = [new(1, 101, At), new(2, 102, At)];
        var tally = ExecutionTally.From(acks, lines, completed.ToHashSet());
        return new Measurement(tally, [], new Impact { Acknowledged = 2, Completed = completed.Length, Lost = tally.LostIds.Count });
    }

    [Fact]
    public void A_lost_id_fails_the_none_lost_line_and_names_the_id()
    {
        var check = Promises.NoneLost(Measure(["1", "2"], 101));

        Assert.False(check.Passed);
        Assert.Contains("102", check.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_lost_passes_the_none_lost_line()
    {
        Assert.True(Promises.NoneLost(Measure(["1", "2"], 101, 102)).Passed);
    }

    [Fact]
    public void An_unexpected_duplicate_fails_the_no_duplicates_line()
    {
        var check = Promises.NoDuplicates(Measure(["1", "2", "1"], 101, 102));

        Assert.False(check.Passed);
        Assert.Contains("101", check.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scenario_passes_only_when_every_line_holds()
    {
        Assert.True(Scenario(Check.That("a", true, "ok"), Check.That("b", true, "ok")).Passed);
        Assert.False(Scenario(Check.That("a", true, "ok"), Check.That("b", false, "broken")).Passed);
        Assert.False(Scenario().Passed);
    }

    [Fact]
    public void The_game_day_fails_when_any_scenario_fails()
    {
        var report = Day(Scenario(Check.That("a", true, "ok")), Scenario(Check.That("b", false, "broken")));

        Assert.False(report.Passed);
        Assert.True(Day(Scenario(Check.That("a", true, "ok"))).Passed);
    }

    [Fact]
    public void The_markdown_report_shows_timeline_impact_and_each_line_with_its_evidence()
    {
        var markdown = MarkdownReport.Write(Day(Scenario(Check.That("none lost", true, "300 of 300"), Check.That("reclaimed within 15 s", false, "took 20.00 s"))));

        Assert.Contains("# Bulwark game day — FAILED", markdown, StringComparison.Ordinal);
        Assert.Contains("| T+0.00 s | failure injected | kill -9 w1 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| T-1.50 s | steady load |", markdown, StringComparison.Ordinal);
        Assert.Contains("| **FAIL** | reclaimed within 15 s | took 20.00 s |", markdown, StringComparison.Ordinal);
        Assert.Contains("| pass | none lost | 300 of 300 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 310 | 300 | 299 | 1 | 2 |", markdown, StringComparison.Ordinal);
        Assert.Contains("**clock-skew**: no flag", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void The_json_report_carries_pass_or_fail_per_line_and_per_scenario()
    {
        using var json = JsonDocument.Parse(JsonReport.Write(Day(Scenario(Check.That("a", true, "ok"), Check.That("b", false, "broken")))));

        Assert.False(json.RootElement.GetProperty("passed").GetBoolean());
        var scenario = json.RootElement.GetProperty("scenarios")[0];
        Assert.False(scenario.GetProperty("passed").GetBoolean());
        Assert.Equal([true, false], scenario.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("passed").GetBoolean()));
        Assert.Equal(299, scenario.GetProperty("impact").GetProperty("completed").GetInt64());
        Assert.Equal("clock-skew", json.RootElement.GetProperty("not_run")[0].GetProperty("name").GetString());
    }

    private static ScenarioReport Scenario(params Check[] checks) => new()
    {
        Name = "worker-crash",
        Injected = "kill -9",
        StartedAt = At,
        DurationSeconds = 12.3,
        Timeline = [new TimelineEntry("failure injected", 0, "kill -9 w1"), new TimelineEntry("steady load", -1.5, "300 jobs")],
        Impact = new Impact { Enqueued = 310, Acknowledged = 300, Completed = 299, Lost = 1, ExecutedTwice = 2 },
        Checks = checks,
    };

    private static GameDayReport Day(params ScenarioReport[] scenarios) => new()
    {
        Store = "SQLite",
        Quick = true,
        StartedAt = At,
        DurationSeconds = 20,
        Scenarios = scenarios,
        NotRun = [new NotRun("clock-skew", "no flag")],
    };
}
