using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Workers;

/// <summary>Turns how an attempt ended into the outcome the store applies, from the job's own policy (retries, backoff, dead letter).</summary>
/// <param name="retrySystemErrors">Retry bug-like errors (category System), as <see cref="WorkerOptions.RetrySystemErrors"/>.</param>
/// <param name="random">A value in [0, 1) for backoff jitter.</param>
public sealed class OutcomePolicy(bool retrySystemErrors, Func<double> random)
{
    /// <summary>The outcome of <paramref name="job"/>'s attempt that ended with <paramref name="error"/>.</summary>
    public JobOutcome Decide(LeasedJob job, JobError error)
    {
        switch (error.Category)
        {
            case FailureCategory.Shutdown:
                return JobOutcome.Release(job.Token, error);
            case FailureCategory.Cancelled:
                return JobOutcome.Cancelled(job.Token, error);
            case FailureCategory.Permanent:
            case FailureCategory.System when !retrySystemErrors:
                return JobOutcome.Fail(job.Token, error);
        }

        if (job.Attempt >= job.MaxAttempts)
        {
            var reason = $"Attempts exhausted ({job.Attempt} of {job.MaxAttempts}); last error ({error.Category}): {error.Message}";
            return JobOutcome.DeadLetter(job.Token, error, reason);
        }

        return JobOutcome.Retry(job.Token, error, job.Backoff.DelayFor(job.Attempt, random()));
    }
}
