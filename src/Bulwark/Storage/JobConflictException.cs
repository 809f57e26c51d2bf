using System.Globalization;
using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>
/// An admin action on a job was refused because another job stands in its way: a dependency that did not complete,
/// or a live job holding the same idempotency key. Nothing was changed. The message names the other job and what to do.
/// Over HTTP it is a 409 problem+json.
/// </summary>
public sealed class JobConflictException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="jobId"/>, blocked by <paramref name="conflictingJobId"/>.</summary>
    public JobConflictException(long jobId, long conflictingJobId, JobConflictKind kind, string message)
        : base(message)
    {
        JobId = jobId;
        ConflictingJobId = conflictingJobId;
        Kind = kind;
    }

    /// <summary>The job the action was for.</summary>
    public long JobId { get; }

    /// <summary>The job in the way: the unfinished dependency, or the live job holding the key.</summary>
    public long ConflictingJobId { get; }

    /// <summary>What kind of conflict it is.</summary>
    public JobConflictKind Kind { get; }

    /// <summary>A retry refused because <paramref name="parentId"/>, which the job depends on, ended <paramref name="parentState"/>.</summary>
    public static JobConflictException DependencyNotCompleted(long jobId, long parentId, JobState parentState) => new(
        jobId,
        parentId,
        JobConflictKind.DependencyNotCompleted,
        string.Create(CultureInfo.InvariantCulture,
            $"Job {jobId} cannot be retried: it depends on job {parentId}, which ended {parentState.ToName()} and will never complete. Retry job {parentId} first; job {jobId} then waits for it. Nothing was changed."));

    /// <summary>A retry refused because the live job <paramref name="holderId"/> holds the job's idempotency key.</summary>
    public static JobConflictException KeyHeld(long jobId, long holderId, string key) => new(
        jobId,
        holderId,
        JobConflictKind.KeyHeld,
        string.Create(CultureInfo.InvariantCulture,
            $"Job {jobId} cannot be retried: its idempotency key '{key}' is held by job {holderId}, which is still live; retrying would run the same work twice. Wait for job {holderId} to finish (or cancel it). Nothing was changed."));
}
