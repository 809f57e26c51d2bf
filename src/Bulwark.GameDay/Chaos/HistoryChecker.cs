using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Chaos;

/// <summary>
/// Checks a round's history against the guarantees (DESIGN.md §1): every line is a rule over the recorded
/// acknowledgements, cancels, executions and final states, with the job ids that break it as the evidence.
/// </summary>
internal static class HistoryChecker
{
    public const string PresentAndTerminal = "every acknowledged job is present and reaches a terminal state";
    public const string NoneCompletesTwice = "none completes twice (no lease starts after the job was completed)";
    public const string NoStaleOutcome = "no stale lease's outcome is recorded";
    public const string CancelledStayCancelled = "cancelled jobs stay cancelled";

    private static readonly HashSet<string> Terminal = ["completed", "failed", "dead_letter", "cancelled"];

    public static IReadOnlyList<Check> Check(ChaosHistory history)
    {
        var finals = history.Finals.ToDictionary(f => f.JobId);
        var runs = history.Executions.ToLookup(e => e.JobId);
        return [Present(history, finals), CompletesOnce(history, finals, runs), NotStale(finals, runs), CancelsHold(history, finals, runs)];
    }

    private static Check Present(ChaosHistory history, Dictionary<long, FinalRecord> finals)
    {
        var missing = history.Acks.Where(a => !finals.ContainsKey(a.JobId)).Select(a => a.JobId).ToArray();
        var open = history.Acks.Where(a => finals.TryGetValue(a.JobId, out var f) && !Terminal.Contains(f.State))
            .Select(a => $"{a.JobId} ({finals[a.JobId].State})").ToArray();
        var states = history.Acks.Where(a => finals.ContainsKey(a.JobId)).GroupBy(a => finals[a.JobId].State).OrderBy(g => g.Key)
            .Select(g => $"{g.Count()} {g.Key}");
        return Reports.Check.That(PresentAndTerminal, missing.Length == 0 && open.Length == 0,
            missing.Length == 0 && open.Length == 0
                ? $"{history.Acks.Count} acknowledged, all in the store and terminal: {string.Join(", ", states)}"
                : $"missing from the store: {List(missing)}; not terminal: {List(open)}");
    }

    private static Check CompletesOnce(ChaosHistory history, Dictionary<long, FinalRecord> finals, ILookup<long, TraceRecord> runs)
    {
        var bad = new List<string>();

        // Seen completed, then leased again: a second run after a recorded completion, whichever lease's result is kept at the end.
        foreach (var seen in history.SeenCompleted)
        {
            if (runs[seen.JobId].FirstOrDefault(r => r.Kind == "start" && r.AtUnixMs > seen.AtUnixMs) is { } again)
            {
                bad.Add($"{seen.JobId}: listed completed at {seen.AtUnixMs}, then started again under lease {again.Epoch} on {again.Worker} at {again.AtUnixMs}");
            }

            if (!finals.TryGetValue(seen.JobId, out var end) || end.State != "completed")
            {
                bad.Add($"{seen.JobId}: listed completed at {seen.AtUnixMs}, ends {end?.State ?? "absent"}");
            }
        }

        var completed = finals.Values.Where(f => f.State == "completed").ToArray();
        foreach (var job in completed)
        {
            if (job.ResultEpoch is not { } recorded)
            {
                bad.Add($"{job.JobId}: completed with no lease named in its result");
                continue;
            }

            if (runs[job.JobId].FirstOrDefault(r => r.Kind == "finish" && r.Epoch == recorded) is not { } finish)
            {
                bad.Add($"{job.JobId}: its result names lease {recorded}, which never finished");
            }
            else if (runs[job.JobId].FirstOrDefault(r => r.Kind == "start" && r.Epoch > recorded && r.AtUnixMs > finish.AtUnixMs) is { } after)
            {
                // A later lease that started before this finish is a stale-outcome question (the next line), not a second run.
                bad.Add($"{job.JobId}: completed by lease {recorded}, then started again under lease {after.Epoch} on {after.Worker}");
            }
        }

        var twice = completed.Count(j => runs[j.JobId].Count(r => r.Kind == "finish") > 1);
        return Reports.Check.That(NoneCompletesTwice, bad.Count == 0,
            bad.Count == 0
                ? $"{completed.Length} completed, each by one lease that finished, none started again once completed ({history.SeenCompleted.Count} seen completed while the round ran); {twice} of them finished on more than one lease (at-least-once), one outcome recorded"
                : List(bad));
    }

    private static Check NotStale(Dictionary<long, FinalRecord> finals, ILookup<long, TraceRecord> runs)
    {
        var bad = new List<string>();
        var refused = 0;
        foreach (var job in finals.Values)
        {
            var starts = runs[job.JobId].Where(r => r.Kind == "start").ToArray();

            // A lease is superseded once a later lease of the same job has started: from then on the store must refuse its outcome.
            bool Superseded(TraceRecord end) => starts.Any(s => s.Epoch > end.Epoch && s.AtUnixMs < end.AtUnixMs);
            if (job.State == "completed" && job.ResultEpoch is { } recorded && recorded != job.LeaseEpoch)
            {
                bad.Add($"{job.JobId}: the completion of lease {recorded} is recorded, but its last lease is {job.LeaseEpoch}");
            }

            foreach (var failed in job.FailedAtEpochs)
            {
                if (runs[job.JobId].FirstOrDefault(r => r.Kind == "fail" && r.Epoch == failed) is { } end && Superseded(end))
                {
                    bad.Add($"{job.JobId}: the failure of lease {failed} is recorded although a later lease had started before it failed");
                }
            }

            refused += runs[job.JobId].Count(r => r.Kind is "finish" or "fail" && Superseded(r)
                && !(r.Kind == "finish" && r.Epoch == job.ResultEpoch) && !(r.Kind == "fail" && job.FailedAtEpochs.Contains(r.Epoch)));
        }

        return Reports.Check.That(NoStaleOutcome, bad.Count == 0,
            bad.Count == 0
                ? $"every recorded completion names the job's last lease and no recorded failure came from a superseded lease; {refused} outcome(s) of superseded leases ran to the end and were refused"
                : List(bad));
    }

    private static Check CancelsHold(ChaosHistory history, Dictionary<long, FinalRecord> finals, ILookup<long, TraceRecord> runs)
    {
        var bad = new List<string>();
        foreach (var cancel in history.Cancels)
        {
            var state = finals.TryGetValue(cancel.JobId, out var f) ? f.State : "absent";
            var startedAfter = runs[cancel.JobId].Where(r => r.Kind == "start" && r.AtUnixMs > cancel.AtUnixMs).Select(r => r.Epoch).Distinct().ToArray();
            switch (cancel.Answer)
            {
                // It was waiting when the cancel committed: nothing may run it afterwards.
                case "cancelled" when state != "cancelled" || startedAfter.Length > 0:
                    bad.Add($"{cancel.JobId}: cancelled while waiting, then {(startedAfter.Length > 0 ? $"started under lease {startedAfter[0]}" : "")} ends {state}");
                    break;

                // It was running: that lease may still start its handler and finish, but no later lease may run it, and it ends cancelled unless that run completed it.
                case "cancellation_requested" when state is not ("cancelled" or "completed") || startedAfter.Length > 1:
                    bad.Add($"{cancel.JobId}: cancel requested while running, then leases {string.Join(", ", startedAfter)} started; ends {state}");
                    break;
            }
        }

        var answers = history.Cancels.GroupBy(c => c.Answer).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}");
        return Reports.Check.That(CancelledStayCancelled, bad.Count == 0,
            bad.Count == 0
                ? $"{history.Cancels.Count} cancel(s) ({string.Join(", ", answers)}): each cancelled job ended cancelled and never ran again; each cancel-requested one ended cancelled or completed by the lease it had"
                : List(bad));
    }

    private static string List(IReadOnlyCollection<string> items) =>
        items.Count == 0 ? "none" : string.Join("; ", items.Take(8)) + (items.Count > 8 ? $" … ({items.Count} in all)" : "");

    private static string List(IReadOnlyCollection<long> ids) => List(ids.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
}
