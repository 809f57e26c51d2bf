using Bulwark.Jobs;
using Bulwark.Scheduling;

namespace Bulwark.Storage;

/// <summary>
/// Puts a <see cref="StorageCircuit"/> in front of a store's write path. Every failed write is counted; while the circuit
/// is open writes are refused at once with <see cref="StorageCircuitOpenException"/> and leasing returns nothing (workers
/// pause instead of hammering a failing disk). <see cref="ProbeAsync"/> lets a health check or timer close the circuit
/// without waiting for traffic. Input errors (<see cref="ArgumentException"/>) and cancellations are not storage faults.
/// </summary>
public sealed class CircuitBreakingJobStore : IJobStore
{
    private readonly IJobStore _inner;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public CircuitBreakingJobStore(IJobStore inner, StorageCircuit circuit)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        Circuit = circuit ?? throw new ArgumentNullException(nameof(circuit));
    }

    /// <summary>The circuit this store reports to.</summary>
    public StorageCircuit Circuit { get; }

    /// <summary>
    /// When the circuit is due for a probe, runs one harmless write (promoting due jobs) through it and returns the state after.
    /// Does nothing while the circuit is closed or still cooling down.
    /// </summary>
    public async Task<StorageCircuitState> ProbeAsync(CancellationToken cancellationToken = default)
    {
        if (Circuit.State == StorageCircuitState.HalfOpen)
        {
            try
            {
                await RunAsync("probe", c => _inner.PromoteDueAsync(c), cancellationToken);
            }
            catch (StorageCircuitOpenException)
            {
                // Another caller holds the probe; its outcome decides.
            }
#pragma warning disable CA1031 // The failure is already counted by RunAsync; the probe's answer is the state.
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
            }
        }

        return Circuit.State;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default) =>
        RunAsync("enqueue", c => _inner.EnqueueAsync(jobs, c), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<LeasedJob>> LeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default)
    {
        // Leasing pauses while the circuit is open: an empty answer, so workers idle instead of failing in a loop.
        if (Circuit.State == StorageCircuitState.Open)
        {
            return Task.FromResult<IReadOnlyList<LeasedJob>>([]);
        }

        return RunAsync("lease", c => _inner.LeaseAsync(request, c), cancellationToken);
    }

    /// <inheritdoc />
    public Task<ReclaimResult> RegisterWorkerAsync(WorkerRegistration worker, CancellationToken cancellationToken = default) =>
        RunAsync("register_worker", c => _inner.RegisterWorkerAsync(worker, c), cancellationToken);

    /// <inheritdoc />
    public Task<HeartbeatResult> HeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default) =>
        RunAsync("heartbeat", c => _inner.HeartbeatAsync(heartbeat, c), cancellationToken);

    /// <inheritdoc />
    public Task DeregisterWorkerAsync(string workerId, CancellationToken cancellationToken = default) =>
        RunAsync("deregister_worker", async c => { await _inner.DeregisterWorkerAsync(workerId, c); return true; }, cancellationToken);

    /// <inheritdoc />
    public Task<int> PurgeWorkersAsync(TimeSpan olderThan, CancellationToken cancellationToken = default) =>
        RunAsync("purge_workers", c => _inner.PurgeWorkersAsync(olderThan, c), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<FenceResult>> FinishAsync(IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken = default) =>
        RunAsync("finish", c => _inner.FinishAsync(outcomes, c), cancellationToken);

    /// <inheritdoc />
    public Task<FenceResult> SaveProgressAsync(LeaseToken token, int? progress, string? checkpoint, CancellationToken cancellationToken = default) =>
        RunAsync("save_progress", c => _inner.SaveProgressAsync(token, progress, checkpoint, c), cancellationToken);

    /// <inheritdoc />
    public Task<int> PromoteDueAsync(CancellationToken cancellationToken = default) =>
        RunAsync("promote_due", c => _inner.PromoteDueAsync(c), cancellationToken);

    /// <inheritdoc />
    public Task<ReclaimResult> ReclaimAsync(TimeSpan workerDeadAfter, CancellationToken cancellationToken = default) =>
        RunAsync("reclaim", c => _inner.ReclaimAsync(workerDeadAfter, c), cancellationToken);

    /// <inheritdoc />
    public Task<int> ExpireAsync(CancellationToken cancellationToken = default) =>
        RunAsync("expire", c => _inner.ExpireAsync(c), cancellationToken);

    /// <inheritdoc />
    public Task<int> PurgeAsync(RetentionPolicy policy, CancellationToken cancellationToken = default) =>
        RunAsync("purge", c => _inner.PurgeAsync(policy, c), cancellationToken);

    /// <inheritdoc />
    public Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken = default) =>
        RunAsync("retry", c => _inner.RetryAsync(jobId, c), cancellationToken);

    /// <inheritdoc />
    public Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken = default) =>
        RunAsync("retry_dead_letters", c => _inner.RetryDeadLettersAsync(queue, c), cancellationToken);

    /// <inheritdoc />
    public Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default) =>
        RunAsync("cancel", c => _inner.CancelAsync(jobId, c), cancellationToken);

    /// <inheritdoc />
    public Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken = default) =>
        RunAsync("set_queue_paused", async c => { await _inner.SetQueuePausedAsync(queue, paused, c); return true; }, cancellationToken);

    /// <inheritdoc />
    public Task<int> DeleteJobsAsync(string queue, JobState state, DateTimeOffset olderThan, CancellationToken cancellationToken = default) =>
        RunAsync("delete_jobs", c => _inner.DeleteJobsAsync(queue, state, olderThan, c), cancellationToken);

    /// <inheritdoc />
    public Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken = default) =>
        RunAsync("open_circuit", c => _inner.OpenCircuitAsync(type, c), cancellationToken);

    /// <inheritdoc />
    public Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken = default) =>
        RunAsync("close_circuit", c => _inner.CloseCircuitAsync(type, c), cancellationToken);

    /// <inheritdoc />
    public Task ReportCircuitsAsync(string workerId, IReadOnlyList<CircuitBreakerRecord> breakers, CancellationToken cancellationToken = default) =>
        RunAsync("report_circuits", async c => { await _inner.ReportCircuitsAsync(workerId, breakers, c); return true; }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken = default) =>
        RunAsync("list_circuits", c => _inner.ListCircuitsAsync(c), cancellationToken);

    /// <inheritdoc />
    public Task SetQueueLimitsAsync(string queue, QueueLimits limits, CancellationToken cancellationToken = default) =>
        RunAsync("set_queue_limits", async c => { await _inner.SetQueueLimitsAsync(queue, limits, c); return true; }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, QueueLimits>> GetQueueLimitsAsync(CancellationToken cancellationToken = default) =>
        RunAsync("get_queue_limits", c => _inner.GetQueueLimitsAsync(c), cancellationToken);

    /// <inheritdoc />
    public Task SetQueuePolicyAsync(string queue, QueuePolicy policy, CancellationToken cancellationToken = default) =>
        RunAsync("set_queue_policy", async c => { await _inner.SetQueuePolicyAsync(queue, policy, c); return true; }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, QueuePolicy>> GetQueuePoliciesAsync(CancellationToken cancellationToken = default) =>
        RunAsync("get_queue_policies", c => _inner.GetQueuePoliciesAsync(c), cancellationToken);

    /// <inheritdoc />
    public Task UpsertRecurringAsync(RecurringJob job, CancellationToken cancellationToken = default) =>
        RunAsync("upsert_recurring", async c => { await _inner.UpsertRecurringAsync(job, c); return true; }, cancellationToken);

    /// <inheritdoc />
    public Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken = default) =>
        RunAsync("remove_recurring", c => _inner.RemoveRecurringAsync(name, c), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken = default) =>
        RunAsync("list_recurring", c => _inner.ListRecurringAsync(c), cancellationToken);

    /// <inheritdoc />
    public Task<TickClaim> ClaimRecurringTickAsync(RecurringTick tick, CancellationToken cancellationToken = default) =>
        RunAsync("claim_recurring_tick", c => _inner.ClaimRecurringTickAsync(tick, c), cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    private async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        if (!Circuit.TryEnter(out var isProbe))
        {
            throw Circuit.Refusal();
        }

        T result;
        try
        {
            result = await call(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (isProbe)
            {
                Circuit.AbandonProbe();
            }

            throw;
        }
        catch (ArgumentException)
        {
            // Bad input (JobValidationException is one): the store answered, so it is healthy.
            Circuit.RecordSuccess(isProbe);
            throw;
        }
        catch (Exception ex)
        {
            Circuit.RecordFailure(operation, ex, isProbe);
            throw;
        }

        Circuit.RecordSuccess(isProbe);
        return result;
    }
}
