using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// Watches the running jobs on each leasing pass: cancels one past its execution timeout, and abandons a handler that
/// ignores its cancelled token past the grace period, so a hung handler frees its slot and its job gets an outcome.
/// </summary>
internal sealed class Supervisor(LeaseBook book, WorkerOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>Returns the handlers abandoned by this pass, already settled: their outcome is the caller's to record.</summary>
    public IReadOnlyList<RunningJob> SuperviseOnce()
    {
        List<RunningJob>? abandoned = null;
        foreach (var run in book.Running)
        {
            if (run.IsSettled)
            {
                continue;
            }

            if (run.Reason == CancelReason.None && time.GetElapsedTime(run.StartedTimestamp) >= run.Job.Timeout)
            {
                run.Cancel(CancelReason.Timeout);
                run.CancelledTimestamp = time.GetTimestamp();
            }

            // A drain's cancel has its own grace (the drain abandons those itself).
            if (run.Reason is CancelReason.None or CancelReason.Shutdown || run.Execution.IsCompleted)
            {
                continue;
            }

            run.CancelledTimestamp ??= time.GetTimestamp();
            if (time.GetElapsedTime(run.CancelledTimestamp.Value) >= options.AbandonGracePeriod && book.TryAbandon(run))
            {
                WorkerLog.Abandoned(logger, run.Job.Id, run.Job.Type, options.AbandonGracePeriod);
                (abandoned ??= []).Add(run);
            }
        }

        return abandoned ?? [];
    }
}
