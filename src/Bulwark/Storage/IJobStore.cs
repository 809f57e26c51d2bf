using Bulwark.Jobs;
using Bulwark.Scheduling;

namespace Bulwark.Storage;

/// <summary>
/// The write path of a job store. Each method is one atomic transition (or one atomic batch of them),
/// judged by the store's clock, durable when its task completes. Every store passes the shared contract suite.
/// Reads for the API and dashboard live on <see cref="IJobQuery"/>. The fleet-wide settings operators change (breakers,
/// queue limits and policies, recurring jobs) are part of it too, so they pass through every store decorator (the storage
/// circuit among them) rather than being reached by casting.
/// </summary>
public interface IJobStore : ICircuitBreakerStore, IQueueLimitStore, IQueuePolicyStore, IRecurringJobStore, IAsyncDisposable
{
    /// <summary>
    /// Stores a batch atomically: all jobs or none. Returns after the commit is durable (fsynced).
    /// A job whose idempotency key belongs to a live (non-terminal) job is not stored; its result carries the existing id.
    /// A dependency on an unknown id refuses the whole batch with a <see cref="JobValidationException"/>.
    /// </summary>
    Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Leases up to <c>request.Max</c> ready jobs of unpaused queues (due scheduled jobs count as ready), in order:
    /// queue preference, then priority descending, <c>run_at</c>, id. Each lease charges an attempt and raises the epoch.
    /// Concurrent callers never receive the same job.
    /// </summary>
    Task<IReadOnlyList<LeasedJob>> LeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Registers a worker at start-up. Earlier registrations with the same name and host that are still active or draining
    /// are declared dead (one that stopped gracefully stays stopped), and running jobs of any of them are reclaimed at once
    /// (a restart recovers its predecessor's work). Returns what was reclaimed.
    /// </summary>
    Task<ReclaimResult> RegisterWorkerAsync(WorkerRegistration worker, CancellationToken cancellationToken = default);

    /// <summary>Renews the worker's registration and all its held leases in one transaction; reports lost leases and cancellation requests.</summary>
    Task<HeartbeatResult> HeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default);

    /// <summary>Marks the worker stopped. Its leases must already be finished or released.</summary>
    Task DeregisterWorkerAsync(string workerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the registrations of stopped and dead workers last heard from longer than <paramref name="olderThan"/> ago,
    /// so the registry does not grow with every restart. A registration that still owns a running job is kept until reclaim
    /// has taken the job back. Returns how many were deleted.
    /// </summary>
    Task<int> PurgeWorkersAsync(TimeSpan olderThan, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies attempt outcomes, each fenced by its token; one result per outcome, in order. A job ending in a terminal
    /// state resolves its dependents in the same transaction (all parents completed → Ready; a parent ended otherwise → DeadLetter).
    /// </summary>
    Task<IReadOnlyList<FenceResult>> FinishAsync(IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken = default);

    /// <summary>Saves progress (0–100, null keeps it) and a checkpoint (null keeps it), fenced by the token.</summary>
    Task<FenceResult> SaveProgressAsync(LeaseToken token, int? progress, string? checkpoint, CancellationToken cancellationToken = default);

    /// <summary>Moves Scheduled jobs whose <c>run_at</c> has come to Ready. Returns how many.</summary>
    Task<int> PromoteDueAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Declares workers silent for longer than <paramref name="workerDeadAfter"/> dead, and reclaims running jobs whose lease
    /// expired or whose owner is dead: back to Ready (category Crash), or dead letter as poison after the last attempt,
    /// or Cancelled when a cancellation was requested.
    /// </summary>
    Task<ReclaimResult> ReclaimAsync(TimeSpan workerDeadAfter, CancellationToken cancellationToken = default);

    /// <summary>Moves non-terminal jobs past their <c>expires_at</c> to dead letter (cascading to their dependents). Returns how many.</summary>
    Task<int> ExpireAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes terminal jobs older than the policy keeps (at most <c>BatchSize</c>). Returns how many.</summary>
    Task<int> PurgeAsync(RetentionPolicy policy, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves a Failed, DeadLetter or Cancelled job back to Ready with its attempts reset; to Pending instead while a job it
    /// depends on is live (it then waits for it, as at enqueue). Throws <see cref="JobConflictException"/>, changing nothing,
    /// when a dependency ended failed, dead_letter or cancelled, or when a live job holds its idempotency key.
    /// </summary>
    Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Retries every dead letter of <paramref name="queue"/> as <see cref="RetryAsync"/> does, oldest first, so a parent
    /// retried in the same call is live before its dependents are judged (they go to Pending). Dead letters that
    /// <see cref="RetryAsync"/> would refuse (a dependency still not completed, a key held) are left where they are.
    /// Returns how many were retried.
    /// </summary>
    Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>Cancels a waiting job at once, or requests cancellation of a running one.</summary>
    Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default);

    /// <summary>Pauses or resumes a queue (persisted; honoured by every worker's next lease).</summary>
    Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken = default);

    /// <summary>Deletes jobs of <paramref name="queue"/> in <paramref name="state"/> that finished (or were created) before <paramref name="olderThan"/>. Running jobs cannot be deleted. Returns how many.</summary>
    Task<int> DeleteJobsAsync(string queue, JobState state, DateTimeOffset olderThan, CancellationToken cancellationToken = default);
}
