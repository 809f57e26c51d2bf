using Bulwark.GameDay.Chaos;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Tests;

/// <summary>The chaos checker on hand-made histories: a sound one passes every line, and each kind of violation fails exactly its line.</summary>
public sealed class HistoryCheckerTests
{
    // Job 1 ran on w1 under lease 1, w1 froze, lease 2 on w2 completed it; w1 woke and finished too late (refused).
    // Job 2 failed its first attempt (lease 1) and completed under lease 2. Job 3 was cancelled while it waited.
    private static readonly TraceRecord[] Runs =
    [
        new("start", 1, 1, 1, "w1-a", 1000), new("start", 1, 1, 2, "w2-b", 5000), new("finish", 1, 1, 2, "w2-b", 5200), new("finish", 1, 1, 1, "w1-a", 9000),
        new("start", 2, 1, 1, "w2-b", 1100), new("fail", 2, 1, 1, "w2-b", 1300), new("start", 2, 2, 2, "w3-c", 1800), new("finish", 2, 2, 2, "w3-c", 2000),
    ];

    private static readonly FinalRecord[] Finals =
    [
        new(1, "completed", 2, 2, []), new(2, "completed", 2, 2, [1]), new(3, "cancelled", 0, null, []),
    ];

    private static ChaosHistory Sound(
        IEnumerable<TraceRecord>? runs = null, IEnumerable<FinalRecord>? finals = null, IEnumerable<CancelRecord>? cancels = null, IEnumerable<AckRecord>? acks = null, IEnumerable<SeenRecord>? seen = null) =>
        new([.. acks ?? [new(1, 900), new(2, 950), new(3, 960)]], [.. cancels ?? [new(3, "cancelled", 970)]], [.. runs ?? Runs], [.. finals ?? Finals],
            [.. seen ?? [new(2, 2100), new(1, 5300)]]);

    [Fact]
    public void A_sound_history_passes_every_line_and_counts_the_refused_stale_finish()
    {
        var checks = HistoryChecker.Check(Sound());

        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Line}: {c.Evidence}"));
        Assert.Contains("1 outcome(s) of superseded leases ran to the end and were refused", Line(checks, HistoryChecker.NoStaleOutcome).Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void An_acknowledged_job_missing_or_not_terminal_fails_the_first_line()
    {
        var missing = HistoryChecker.Check(Sound(acks: [new(1, 900), new(2, 950), new(3, 960), new(4, 990)]));
        var open = HistoryChecker.Check(Sound(finals: [Finals[0], Finals[1], new(3, "ready", 0, null, [])], cancels: []));

        AssertOnlyFails(missing, HistoryChecker.PresentAndTerminal, "missing from the store: 4");
        AssertOnlyFails(open, HistoryChecker.PresentAndTerminal, "3 (ready)");
    }

    [Fact]
    public void A_completed_job_leased_again_completes_twice()
    {
        var checks = HistoryChecker.Check(Sound(runs: [.. Runs, new("start", 2, 3, 3, "w1-a", 2500)]));

        AssertOnlyFails(checks, HistoryChecker.NoneCompletesTwice, "completed by lease 2, then started again under lease 3");
    }

    [Fact]
    public void A_job_seen_completed_that_runs_again_completes_twice_whatever_its_final_result()
    {
        // Job 2 was listed completed at 2100 (lease 2), then lease 3 ran and its result is the one kept: every final field agrees.
        var runs = Runs.Concat([new("start", 2, 3, 3, "w1-a", 2500), new("finish", 2, 3, 3, "w1-a", 2600)]);

        var checks = HistoryChecker.Check(Sound(runs: runs, finals: [Finals[0], new(2, "completed", 3, 3, [1]), Finals[2]]));

        AssertOnlyFails(checks, HistoryChecker.NoneCompletesTwice, "2: listed completed at 2100, then started again under lease 3");
    }

    [Fact]
    public void A_result_naming_a_lease_that_never_finished_fails()
    {
        var checks = HistoryChecker.Check(Sound(runs: Runs.Where(r => !(r.JobId == 1 && r.Kind == "finish" && r.Epoch == 2))));

        Assert.False(Line(checks, HistoryChecker.NoneCompletesTwice).Passed);
        Assert.Contains("names lease 2, which never finished", Line(checks, HistoryChecker.NoneCompletesTwice).Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void The_recorded_completion_of_a_superseded_lease_is_a_stale_outcome()
    {
        // Job 1's result names lease 1 (the frozen worker's late finish) while the job's last lease is 2.
        var checks = HistoryChecker.Check(Sound(finals: [new(1, "completed", 2, 1, []), Finals[1], Finals[2]]));

        AssertOnlyFails(checks, HistoryChecker.NoStaleOutcome, "the completion of lease 1 is recorded, but its last lease is 2");
    }

    [Fact]
    public void A_failure_recorded_after_a_later_lease_started_is_a_stale_outcome()
    {
        // Lease 1 of job 2 fails at 1900, after lease 2 started at 1800; its failure is in the job's errors anyway.
        var runs = Runs.Select(r => r is { JobId: 2, Kind: "fail" } ? r with { AtUnixMs = 1900 } : r);

        var checks = HistoryChecker.Check(Sound(runs: runs));

        AssertOnlyFails(checks, HistoryChecker.NoStaleOutcome, "the failure of lease 1 is recorded although a later lease had started before it failed");
    }

    [Fact]
    public void A_job_cancelled_while_waiting_that_runs_afterwards_fails_the_cancel_line()
    {
        var ranAfter = HistoryChecker.Check(Sound(runs: [.. Runs, new("start", 3, 1, 1, "w1-a", 1200), new("finish", 3, 1, 1, "w1-a", 1300)],
            finals: [Finals[0], Finals[1], new(3, "cancelled", 1, null, [])]));
        var endsElsewhere = HistoryChecker.Check(Sound(finals: [Finals[0], Finals[1], new(3, "dead_letter", 0, null, [])]));

        AssertOnlyFails(ranAfter, HistoryChecker.CancelledStayCancelled, "3: cancelled while waiting, then started under lease 1");
        AssertOnlyFails(endsElsewhere, HistoryChecker.CancelledStayCancelled, "ends dead_letter");
    }

    [Fact]
    public void A_cancel_requested_job_may_finish_its_lease_but_never_runs_under_another()
    {
        // Cancel requested at 1050 while lease 1 of job 1 ran; its handler start line may come later, but lease 2 may not run.
        var cancels = new CancelRecord[] { new(3, "cancelled", 970), new(1, "cancellation_requested", 1050) };
        var runs = Runs.Select(r => r is { JobId: 1, Epoch: 1, Kind: "start" } ? r with { AtUnixMs = 1060 } : r);

        var checks = HistoryChecker.Check(Sound(runs: runs, cancels: cancels));

        AssertOnlyFails(checks, HistoryChecker.CancelledStayCancelled, "1: cancel requested while running, then leases 1, 2 started");
    }

    private static Check Line(IReadOnlyList<Check> checks, string line) => checks.Single(c => c.Line == line);

    private static void AssertOnlyFails(IReadOnlyList<Check> checks, string line, string evidence)
    {
        Assert.All(checks.Where(c => c.Line != line), c => Assert.True(c.Passed, $"{c.Line}: {c.Evidence}"));
        Assert.False(Line(checks, line).Passed);
        Assert.Contains(evidence, Line(checks, line).Evidence, StringComparison.Ordinal);
    }
}
