using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Workers;

/// <summary>
/// Normalises how an attempt ended (returned, threw, cancelled for a reason, abandoned, never started) into the outcome
/// the store applies, with an error record naming this worker. The job's own policy (<see cref="OutcomePolicy"/>)
/// decides retry, failure or dead letter.
/// </summary>
internal sealed class AttemptOutcomes(string workerId, OutcomePolicy policy, TimeProvider time)
{
    public static JobOutcome Completed(RunningJob run, string? result) => JobOutcome.Complete(run.Job.Token, result);

    /// <summary>The handler threw; the reason its token was cancelled, if any, names the category before the exception does.</summary>
    public JobOutcome Failed(RunningJob run, Exception failure)
    {
        var job = run.Job;
        var category = CategoryFor(run.Reason) ?? FailureClassifier.Classify(failure);
        var message = run.Reason switch
        {
            CancelReason.Timeout => $"Execution timeout of {DurationText.Format(job.Timeout)} passed: {failure.Message}",
            CancelReason.Shutdown => $"Worker shut down while the job ran; released without charging the attempt: {failure.Message}",
            CancelReason.CancelRequested => "Cancelled on request while running.",
            CancelReason.LeaseLost => $"Lease lost while running: {failure.Message}",
            _ => failure.Message,
        };
        return policy.Decide(job, ErrorFor(run, category, message, failure));
    }

    /// <summary>The handler ignored its cancelled token past the grace period.</summary>
    public JobOutcome Abandoned(RunningJob run, TimeSpan grace) => policy.Decide(run.Job, ErrorFor(
        run, CategoryFor(run.Reason) ?? FailureCategory.Timeout,
        $"The handler ignored its cancelled token ({run.Reason}) for {DurationText.Format(grace)} and was abandoned.", null));

    /// <summary>The drain gave up on a handler that ignored its token: the job goes back, the attempt refunded.</summary>
    public JobOutcome ReleasedAtShutdown(RunningJob run) => JobOutcome.Release(run.Job.Token,
        ErrorFor(run, FailureCategory.Shutdown, "Worker shut down before the job finished; released without charging the attempt.", null));

    /// <summary>A lease given back before its job started: uncharged, the error record says <paramref name="why"/>.</summary>
    public JobOutcome GivenBack(LeasedJob job, string why) =>
        JobOutcome.Release(job.Token, new JobError(job.Attempt, workerId, null, time.GetUtcNow(), FailureCategory.Shutdown, $"Given back unstarted: {why}."));

    public JobOutcome CancelledBeforeStart(LeasedJob job) => JobOutcome.Cancelled(job.Token,
        new JobError(job.Attempt, workerId, null, time.GetUtcNow(), FailureCategory.Cancelled, "Cancelled on request before it started."));

    private JobError ErrorFor(RunningJob run, FailureCategory category, string message, Exception? exception) =>
        new(run.Job.Attempt, workerId, run.StartedAt, time.GetUtcNow(), category, message, exception?.ToString(), exception?.GetType().FullName);

    private static FailureCategory? CategoryFor(CancelReason reason) => reason switch
    {
        CancelReason.Timeout => FailureCategory.Timeout,
        CancelReason.Shutdown => FailureCategory.Shutdown,
        CancelReason.CancelRequested => FailureCategory.Cancelled,
        CancelReason.LeaseLost => FailureCategory.Crash,
        _ => null,
    };
}
