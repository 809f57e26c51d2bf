using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;

namespace Bulwark.Cli.Bench;

/// <summary>
/// Passes every call to the real store and counts the hot ones (store calls per job do not depend on the machine's
/// load), and tells the scenario when each outcome is durable: the moment a job counts as completed.
/// </summary>
internal sealed class BenchStore(IJobStore store, IJobQuery query) : IJobStore, IJobQuery
{
    private long _enqueueCalls;
    private long _leaseCalls;
    private long _leased;
    private long _finishCalls;
    private long _finished;

    /// <summary>Called after each <see cref="FinishAsync"/> commit with its outcomes (on the completer's thread).</summary>
    public Action<IReadOnlyList<JobOutcome>>? Finished { get; set; }

    public long Completed => Interlocked.Read(ref _finished);

    /// <summary>Store calls per completed job since the last <see cref="ResetCounts"/>.</summary>
    public IReadOnlyDictionary<string, double> Counts()
    {
        var jobs = Math.Max(1, Interlocked.Read(ref _finished));
        var leased = Math.Max(1, Interlocked.Read(ref _leased));
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["lease_calls_per_1000_jobs"] = Math.Round(1000.0 * Interlocked.Read(ref _leaseCalls) / leased, 2),
            ["finish_calls_per_1000_jobs"] = Math.Round(1000.0 * Interlocked.Read(ref _finishCalls) / jobs, 2),
            ["jobs_per_lease_call"] = Math.Round((double)leased / Math.Max(1, Interlocked.Read(ref _leaseCalls)), 2),
            ["jobs_per_finish_call"] = Math.Round((double)jobs / Math.Max(1, Interlocked.Read(ref _finishCalls)), 2),
        };
    }

    public void ResetCounts()
    {
        Interlocked.Exchange(ref _enqueueCalls, 0);
        Interlocked.Exchange(ref _leaseCalls, 0);
        Interlocked.Exchange(ref _leased, 0);
        Interlocked.Exchange(ref _finishCalls, 0);
        Interlocked.Exchange(ref _finished, 0);
    }

    public Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _enqueueCalls);
        return store.EnqueueAsync(jobs, cancellationToken);
    }

    public async Task<IReadOnlyList<LeasedJob>> LeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default)
    {
        var leased = await store.LeaseAsync(request, cancellationToken);
        Interlocked.Increment(ref _leaseCalls);
        Interlocked.Add(ref _leased, leased.Count);
        return leased;
    }

    public async Task<IReadOnlyList<FenceResult>> FinishAsync(IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        var results = await store.FinishAsync(outcomes, cancellationToken);
        Interlocked.Increment(ref _finishCalls);
        Interlocked.Add(ref _finished, outcomes.Count);
        Finished?.Invoke(outcomes);
        return results;
    }

    public Task<ReclaimResult> RegisterWorkerAsync(WorkerRegistration worker, CancellationToken cancellationToken = default) => store.RegisterWorkerAsync(worker, cancellationToken);

    public Task<HeartbeatResult> HeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default) => store.HeartbeatAsync(heartbeat, cancellationToken);

    public Task DeregisterWorkerAsync(string workerId, CancellationToken cancellationToken = default) => store.DeregisterWorkerAsync(workerId, cancellationToken);

    public Task<int> PurgeWorkersAsync(TimeSpan olderThan, CancellationToken cancellationToken = default) => store.PurgeWorkersAsync(olderThan, cancellationToken);

    public Task<FenceResult> SaveProgressAsync(LeaseToken token, int? progress, string? checkpoint, CancellationToken cancellationToken = default) => store.SaveProgressAsync(token, progress, checkpoint, cancellationToken);

    public Task<int> PromoteDueAsync(CancellationToken cancellationToken = default) => store.PromoteDueAsync(cancellationToken);

    public Task<ReclaimResult> ReclaimAsync(TimeSpan workerDeadAfter, CancellationToken cancellationToken = default) => store.ReclaimAsync(workerDeadAfter, cancellationToken);

    public Task<int> ExpireAsync(CancellationToken cancellationToken = default) => store.ExpireAsync(cancellationToken);

    public Task<int> PurgeAsync(RetentionPolicy policy, CancellationToken cancellationToken = default) => store.PurgeAsync(policy, cancellationToken);

    public Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken = default) => store.RetryAsync(jobId, cancellationToken);

    public Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken = default) => store.RetryDeadLettersAsync(queue, cancellationToken);

    public Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default) => store.CancelAsync(jobId, cancellationToken);

    public Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken = default) => store.SetQueuePausedAsync(queue, paused, cancellationToken);

    public Task<int> DeleteJobsAsync(string queue, JobState state, DateTimeOffset olderThan, CancellationToken cancellationToken = default) => store.DeleteJobsAsync(queue, state, olderThan, cancellationToken);

    public Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken = default) => store.OpenCircuitAsync(type, cancellationToken);

    public Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken = default) => store.CloseCircuitAsync(type, cancellationToken);

    public Task ReportCircuitsAsync(string workerId, IReadOnlyList<CircuitBreakerRecord> breakers, CancellationToken cancellationToken = default) => store.ReportCircuitsAsync(workerId, breakers, cancellationToken);

    public Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken = default) => store.ListCircuitsAsync(cancellationToken);

    public Task SetQueueLimitsAsync(string queue, QueueLimits limits, CancellationToken cancellationToken = default) => store.SetQueueLimitsAsync(queue, limits, cancellationToken);

    public Task<IReadOnlyDictionary<string, QueueLimits>> GetQueueLimitsAsync(CancellationToken cancellationToken = default) => store.GetQueueLimitsAsync(cancellationToken);

    public Task SetQueuePolicyAsync(string queue, QueuePolicy policy, CancellationToken cancellationToken = default) => store.SetQueuePolicyAsync(queue, policy, cancellationToken);

    public Task<IReadOnlyDictionary<string, QueuePolicy>> GetQueuePoliciesAsync(CancellationToken cancellationToken = default) => store.GetQueuePoliciesAsync(cancellationToken);

    public Task UpsertRecurringAsync(RecurringJob job, CancellationToken cancellationToken = default) => store.UpsertRecurringAsync(job, cancellationToken);

    public Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken = default) => store.RemoveRecurringAsync(name, cancellationToken);

    public Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken = default) => store.ListRecurringAsync(cancellationToken);

    public Task<TickClaim> ClaimRecurringTickAsync(RecurringTick tick, CancellationToken cancellationToken = default) => store.ClaimRecurringTickAsync(tick, cancellationToken);

    public Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken = default) => query.GetJobAsync(jobId, cancellationToken);

    public Task<JobSnapshot?> FindByKeyAsync(string key, CancellationToken cancellationToken = default) => query.FindByKeyAsync(key, cancellationToken);

    public Task<JobPage> ListJobsAsync(JobListQuery listQuery, CancellationToken cancellationToken = default) => query.ListJobsAsync(listQuery, cancellationToken);

    public Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken = default) => query.GetQueuesAsync(cancellationToken);

    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken = default) => query.ListWorkersAsync(cancellationToken);

    public Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit = 100, CancellationToken cancellationToken = default) => query.ListStalledAsync(limit, cancellationToken);

    public ValueTask DisposeAsync() => store.DisposeAsync();
}
