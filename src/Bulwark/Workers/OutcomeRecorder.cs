using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// The one road from an ended lease to the store: every outcome (a handler's, the supervisor's, the drain's, a job given
/// back unstarted) goes through the <see cref="OutcomeCompleter"/>, its lease held in the <see cref="LeaseBook"/> until
/// the write is durable. What the written outcome teaches lands here too: metrics, the log, circuit feedback.
/// </summary>
internal sealed class OutcomeRecorder(LeaseBook book, OutcomeCompleter completer, CircuitBreakers circuits, int circuitThreshold, JobSignal slotFreed, TimeProvider time, BulwarkMetrics metrics, ILogger logger)
{
    /// <summary>Frees the slot once the outcome is queued (leasing never waits on a write), then awaits the write.</summary>
    public async Task RecordAsync(RunningJob run, JobOutcome outcome, TimeSpan duration, Exception? failure = null)
    {
        var job = run.Job;
        book.MoveToFinishing(run);
        var submitted = completer.SubmitAsync(outcome, job.Attempt, job);
        slotFreed.Notify(job.Queue);
        try
        {
            Observe(job, outcome, await submitted, duration, failure);
        }
        catch (OperationCanceledException) when (submitted.IsCanceled)
        {
            // A drain's last flush released the lease instead, or could write nothing; it logged which.
        }
        finally
        {
            book.Finished(run);
            slotFreed.Notify(job.Queue);
        }
    }

    /// <summary>Ends a lease that never started; it is renewed until the outcome is written, and a trial is given back to its circuit.</summary>
    public void GiveBack(LeasedAttempt attempt, JobOutcome outcome)
    {
        var (job, trial) = attempt;
        var entry = new RunningJob(job, new CancellationTokenSource(), time.GetTimestamp(), time.GetUtcNow(), trial);
        book.AddFinishing(entry);
        _ = completer.SubmitAsync(outcome, job.Attempt, job).ContinueWith(
            written =>
            {
                book.Finished(entry);
                if (trial)
                {
                    circuits.RecordNeutral(job.Type);
                }

                slotFreed.Notify(job.Queue);
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Observe(LeasedJob job, JobOutcome outcome, FenceResult fence, TimeSpan duration, Exception? failure)
    {
        if (fence != FenceResult.Ok)
        {
            metrics.DuplicateExecution();
            WorkerLog.OutcomeRefused(logger, job.Id, outcome.Kind, fence);
            circuits.RecordNeutral(job.Type);
            return;
        }

        switch (outcome.Kind)
        {
            case OutcomeKind.Complete:
                metrics.JobCompleted(job.Queue, job.Type, duration);
                circuits.RecordSuccess(job.Type);
                WorkerLog.Completed(logger, job.Id, job.Type, duration);
                return;
            case OutcomeKind.Release:
            case OutcomeKind.Cancelled:
                circuits.RecordNeutral(job.Type);
                return;
        }

        var error = outcome.Error!;
        metrics.JobFailed(job.Queue, job.Type, error.Category, duration);
        if (outcome.Kind == OutcomeKind.Retry)
        {
            metrics.JobRetried(job.Queue, job.Type);
        }
        else if (outcome.Kind == OutcomeKind.DeadLetter)
        {
            metrics.JobsDeadLettered(job.Queue, 1, "attempts_exhausted");
        }

        WorkerLog.AttemptFailed(logger, failure, job.Id, job.Type, job.Attempt, error.Category, outcome.Kind, error.Message);
        if (error.Category is FailureCategory.Temporary or FailureCategory.System or FailureCategory.Timeout)
        {
            if (circuits.RecordFailure(job.Type))
            {
                WorkerLog.CircuitOpened(logger, job.Type, circuitThreshold);
            }
        }
        else
        {
            circuits.RecordNeutral(job.Type);
        }
    }
}
