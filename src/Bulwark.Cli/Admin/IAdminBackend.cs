using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Cli.Admin;

/// <summary>
/// What the admin commands need from a Bulwark deployment: a store file opened directly
/// (<see cref="StoreAdminBackend"/>) or, selected by <c>--url</c>, a server's HTTP API.
/// Input reaching it has been validated; it reports "not found" and "wrong state" as results, not exceptions.
/// </summary>
internal interface IAdminBackend : IAsyncDisposable
{
    /// <summary>A short description for messages: "store ./bulwark.db" or "server http://…".</summary>
    string Describe { get; }

    Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken);

    Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken);

    Task<JobPage> ListJobsAsync(JobListQuery query, CancellationToken cancellationToken);

    Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken);

    Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken);

    Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken);

    Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken);

    Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken);

    /// <summary>Deletes jobs of a queue in a state that finished (or were created) more than <paramref name="olderThan"/> ago.</summary>
    Task<int> DeleteJobsAsync(string queue, JobState state, TimeSpan olderThan, CancellationToken cancellationToken);

    Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit, CancellationToken cancellationToken);
}
