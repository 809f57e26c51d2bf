using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Workers;

/// <summary>Turns how an attempt ended into the outcome the store applies, from the job's own policy.</summary>
internal sealed class OutcomePolicy(bool retrySystemErrors, Func<double> random)
{
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
