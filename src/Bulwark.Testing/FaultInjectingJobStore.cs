using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;

namespace Bulwark.Testing;

/// <summary>
/// A store decorator that fails writes on command, for testing what happens when the disk fills or the database goes away:
/// <c>store.FailWrites()</c>, then <c>store.Heal()</c>. A failed write never reaches the inner store, so nothing is stored.
/// Reads pass through unchanged unless <see cref="FailReads"/> is set.
/// </summary>
public sealed class FaultInjectingJobStore : IJobStore, IJobQuery
{
    private readonly IJobStore _store;
    private readonly IJobQuery _query;
    private int _failWrites;
    private int _failNextWrites;
    private int _failReads;
    private long _injected;

    /// <summary>Wraps a store (its write and read sides).</summary>
    public FaultInjectingJobStore(IJobStore store, IJobQuery query)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _query = query ?? throw new ArgumentNullException(nameof(query));
    }

    /// <summary>
    /// Runs before every <see cref="FinishAsync"/> reaches the inner store, with the outcomes and the caller's token: a
    /// test makes the store slow (await something) or refuse some outcomes (throw) for finishing alone. Null: nothing.
    /// </summary>
    public Func<IReadOnlyList<JobOutcome>, CancellationToken, Task>? BeforeFinish { get; set; }

    /// <summary>How many calls failed by injection so far.</summary>
    public long InjectedFailures => Interlocked.Read(ref _injected);

    /// <summary>Every write fails with an <see cref="IOException"/> until <see cref="Heal"/>.</summary>
    public void FailWrites() => Volatile.Write(ref _failWrites, 1);

    /// <summary>The next <paramref name="count"/> writes fail, then writes succeed again.</summary>
    public void FailNextWrites(int count) => Volatile.Write(ref _failNextWrites, count);

    /// <summary>Reads fail too (a store that does not answer at all).</summary>
    public void FailReads() => Volatile.Write(ref _failReads, 1);

    /// <summary>Clears every injected fault.</summary>
    public void Heal()
    {
        Volatile.Write(ref _failWrites, 0);
        Volatile.Write(ref _failNextWrites, 0);
        Volatile.Write(ref _failReads, 0);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default) { Write(); return await _store.EnqueueAsync(jobs, cancellationToken); }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LeasedJob>> LeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default) { Write(); return await _store.LeaseAsync(request, cancellationToken); }

    /// <inheritdoc />
    public async Task<ReclaimResult> RegisterWorkerAsync(WorkerRegistration worker, CancellationToken cancellationToken = default) { Write(); return await _store.RegisterWorkerAsync(worker, cancellationToken); }

    /// <inheritdoc />
    public async Task<HeartbeatResult> HeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default) { Write(); return await _store.HeartbeatAsync(heartbeat, cancellationToken); }

    /// <inheritdoc />
    public async Task DeregisterWorkerAsync(string workerId, CancellationToken cancellationToken = default) { Write(); await _store.DeregisterWorkerAsync(workerId, cancellationToken); }

    /// <inheritdoc />
    public async Task<int> PurgeWorkersAsync(TimeSpan olderThan, CancellationToken cancellationToken = default) { Write(); return await _store.PurgeWorkersAsync(olderThan, cancellationToken); }

    /// <inheritdoc />
    public async Task<IReadOnlyList<FenceResult>> FinishAsync(IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        Write();
        if (BeforeFinish is { } before)
        {
            await before(outcomes, cancellationToken);
        }

        return await _store.FinishAsync(outcomes, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<FenceResult> SaveProgressAsync(LeaseToken token, int? progress, string? checkpoint, CancellationToken cancellationToken = default) { Write(); return await _store.SaveProgressAsync(token, progress, checkpoint, cancellationToken); }

    /// <inheritdoc />
    public async Task<int> PromoteDueAsync(CancellationToken cancellationToken = default) { Write(); return await _store.PromoteDueAsync(cancellationToken); }

    /// <inheritdoc />
    public async Task<ReclaimResult> ReclaimAsync(TimeSpan workerDeadAfter, CancellationToken cancellationToken = default) { Write(); return await _store.ReclaimAsync(workerDeadAfter, cancellationToken); }

    /// <inheritdoc />
    public async Task<int> ExpireAsync(CancellationToken cancellationToken = default) { Write(); return await _store.ExpireAsync(cancellationToken); }

    /// <inheritdoc />
    public async Task<int> PurgeAsync(RetentionPolicy policy, CancellationToken cancellationToken = default) { Write(); return await _store.PurgeAsync(policy, cancellationToken); }

    /// <inheritdoc />
    public async Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken = default) { Write(); return await _store.RetryAsync(jobId, cancellationToken); }

    /// <inheritdoc />
    public async Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken = default) { Write(); return await _store.RetryDeadLettersAsync(queue, cancellationToken); }

    /// <inheritdoc />
    public async Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default) { Write(); return await _store.CancelAsync(jobId, cancellationToken); }

    /// <inheritdoc />
    public async Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken = default) { Write(); await _store.SetQueuePausedAsync(queue, paused, cancellationToken); }

    /// <inheritdoc />
    public async Task<int> DeleteJobsAsync(string queue, JobState state, DateTimeOffset olderThan, CancellationToken cancellationToken = default) { Write(); return await _store.DeleteJobsAsync(queue, state, olderThan, cancellationToken); }

    /// <inheritdoc />
    public async Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken = default) { Write(); return await _store.OpenCircuitAsync(type, cancellationToken); }

    /// <inheritdoc />
    public async Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken = default) { Write(); return await _store.CloseCircuitAsync(type, cancellationToken); }

    /// <inheritdoc />
    public async Task ReportCircuitsAsync(string workerId, IReadOnlyList<CircuitBreakerRecord> breakers, CancellationToken cancellationToken = default) { Write(); await _store.ReportCircuitsAsync(workerId, breakers, cancellationToken); }

    /// <inheritdoc />
    public async Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken = default) { Read(); return await _store.ListCircuitsAsync(cancellationToken); }

    /// <inheritdoc />
    public async Task SetQueueLimitsAsync(string queue, QueueLimits limits, CancellationToken cancellationToken = default) { Write(); await _store.SetQueueLimitsAsync(queue, limits, cancellationToken); }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, QueueLimits>> GetQueueLimitsAsync(CancellationToken cancellationToken = default) { Read(); return await _store.GetQueueLimitsAsync(cancellationToken); }

    /// <inheritdoc />
    public async Task SetQueuePolicyAsync(string queue, QueuePolicy policy, CancellationToken cancellationToken = default) { Write(); await _store.SetQueuePolicyAsync(queue, policy, cancellationToken); }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, QueuePolicy>> GetQueuePoliciesAsync(CancellationToken cancellationToken = default) { Read(); return await _store.GetQueuePoliciesAsync(cancellationToken); }

    /// <inheritdoc />
    public async Task UpsertRecurringAsync(RecurringJob job, CancellationToken cancellationToken = default) { Write(); await _store.UpsertRecurringAsync(job, cancellationToken); }

    /// <inheritdoc />
    public async Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken = default) { Write(); return await _store.RemoveRecurringAsync(name, cancellationToken); }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken = default) { Read(); return await _store.ListRecurringAsync(cancellationToken); }

    /// <inheritdoc />
    public async Task<TickClaim> ClaimRecurringTickAsync(RecurringTick tick, CancellationToken cancellationToken = default) { Write(); return await _store.ClaimRecurringTickAsync(tick, cancellationToken); }

    /// <inheritdoc />
    public async Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken = default) { Read(); return await _query.GetJobAsync(jobId, cancellationToken); }

    /// <inheritdoc />
    public async Task<JobSnapshot?> FindByKeyAsync(string key, CancellationToken cancellationToken = default) { Read(); return await _query.FindByKeyAsync(key, cancellationToken); }

    /// <inheritdoc />
    public async Task<JobPage> ListJobsAsync(JobListQuery query, CancellationToken cancellationToken = default) { Read(); return await _query.ListJobsAsync(query, cancellationToken); }

    /// <inheritdoc />
    public async Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken = default) { Read(); return await _query.GetQueuesAsync(cancellationToken); }

    /// <inheritdoc />
    public async Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken = default) { Read(); return await _query.ListWorkersAsync(cancellationToken); }

    /// <inheritdoc />
    public async Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit = 100, CancellationToken cancellationToken = default) { Read(); return await _query.ListStalledAsync(limit, cancellationToken); }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _store.DisposeAsync();

    private void Write()
    {
        if (Volatile.Read(ref _failWrites) == 1 || TakeOne())
        {
            Interlocked.Increment(ref _injected);
            throw new IOException("Injected write failure (FaultInjectingJobStore): the disk is full.");
        }
    }

    private void Read()
    {
        if (Volatile.Read(ref _failReads) == 1)
        {
            Interlocked.Increment(ref _injected);
            throw new IOException("Injected read failure (FaultInjectingJobStore): the store does not answer.");
        }
    }

    private bool TakeOne()
    {
        while (true)
        {
            var left = Volatile.Read(ref _failNextWrites);
            if (left <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _failNextWrites, left - 1, left) == left)
            {
                return true;
            }
        }
    }
}
