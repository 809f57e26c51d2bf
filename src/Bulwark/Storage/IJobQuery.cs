using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>Reads for the API, CLI and dashboard. None of them scans every job: each uses an index.</summary>
public interface IJobQuery
{
    /// <summary>One job, or null.</summary>
    Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken = default);

    /// <summary>The live (non-terminal) job holding an idempotency key, or else the newest job that held it, or null.</summary>
    Task<JobSnapshot?> FindByKeyAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Jobs newest first, filtered by queue and state, keyset-paged by id.</summary>
    Task<JobPage> ListJobsAsync(JobListQuery query, CancellationToken cancellationToken = default);

    /// <summary>Every known queue (one that has jobs or was paused) with counts per state.</summary>
    Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken = default);

    /// <summary>Registered workers, newest heartbeat first (dead and stopped ones included until purged).</summary>
    Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken = default);

    /// <summary>Running jobs whose lease has expired (store clock): what the next reclaim pass will take back.</summary>
    Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit = 100, CancellationToken cancellationToken = default);
}
