using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Api;

/// <summary>
/// Every operator action, written once: the HTTP API, the dashboard and the CLI's store back-end call these (the CLI's
/// <c>--url</c> back-end calls the API, so it lands here too). One set of rules (input checked first, nothing changed on a
/// refusal) and one set of side effects: workers of this process woken when jobs become ready, reclaims counted, and
/// every change logged (server events 3014–3016) with what it did.
/// </summary>
public sealed class AdminActions
{
    private readonly IJobStore _store;
    private readonly IJobQuery _query;
    private readonly TimeProvider _time;
    private readonly JobSignal? _signal;
    private readonly BulwarkMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly TimeSpan _workerDeadAfter;

    /// <summary>Actions on <paramref name="store"/>. <paramref name="signal"/> wakes this process's workers; <paramref name="workerDeadAfter"/> is the silence that reclaim-stalled declares a worker dead after.</summary>
    public AdminActions(IJobStore store, IJobQuery query, TimeSpan workerDeadAfter, TimeProvider? time = null, JobSignal? signal = null, BulwarkMetrics? metrics = null, ILogger? logger = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _query = query ?? throw new ArgumentNullException(nameof(query));
        _workerDeadAfter = workerDeadAfter;
        _time = time ?? TimeProvider.System;
        _signal = signal;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Moves a failed, dead-lettered or cancelled job back to Ready with its attempts reset, and wakes its queue's workers.</summary>
    public async Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken = default)
    {
        JobId(jobId);
        var result = await _store.RetryAsync(jobId, cancellationToken);
        if (result == AdminResult.Ok && await _query.GetJobAsync(jobId, cancellationToken) is { } job)
        {
            Wake(job.Queue);
        }

        Log("retry", $"job {jobId}", result.ToString());
        return result;
    }

    /// <summary>Moves every dead letter of <paramref name="queue"/> back to Ready; returns how many.</summary>
    public async Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        var retried = await _store.RetryDeadLettersAsync(queue, cancellationToken);
        if (retried > 0)
        {
            Wake(queue);
        }

        Log("retry-all", queue, $"{retried} retried");
        return retried;
    }

    /// <summary>Cancels a waiting job at once, or asks a running one to stop (its worker hears at its next heartbeat).</summary>
    public async Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default)
    {
        JobId(jobId);
        var result = await _store.CancelAsync(jobId, cancellationToken);
        Log("cancel", $"job {jobId}", result.ToString());
        return result;
    }

    /// <summary>Pauses (no worker leases its jobs) or resumes a queue; resuming wakes its workers.</summary>
    public async Task SetPausedAsync(string queue, bool paused, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        await _store.SetQueuePausedAsync(queue, paused, cancellationToken);
        if (!paused)
        {
            Wake(queue);
        }

        Log(paused ? "pause" : "resume", queue, paused ? "paused" : "resumed");
    }

    /// <summary>Deletes the jobs of <paramref name="queue"/> in <paramref name="state"/> finished (or created) more than <paramref name="olderThan"/> ago; running jobs cannot be deleted.</summary>
    public async Task<int> PurgeAsync(string queue, JobState state, TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        if (state == JobState.Running)
        {
            throw new JobValidationException("state", "Running jobs cannot be deleted; cancel them first.");
        }

        if (olderThan < TimeSpan.Zero)
        {
            throw new JobValidationException("older_than", $"The age cannot be negative (got -{DurationText.Format(olderThan.Duration())}).");
        }

        var deleted = await _store.DeleteJobsAsync(queue, state, _time.GetUtcNow() - olderThan, cancellationToken);
        Log("purge", queue, $"{deleted} {state.ToName()} jobs older than {DurationText.Format(olderThan)} deleted");
        return deleted;
    }

    /// <summary>Reclaims stalled jobs and declares silent workers dead now, as a maintenance pass would (counted like one).</summary>
    public async Task<ReclaimResult> ReclaimStalledAsync(CancellationToken cancellationToken = default)
    {
        var result = await _store.ReclaimAsync(_workerDeadAfter, cancellationToken);
        if (result.Total > 0)
        {
            _metrics?.StalledReclaimed(result.Total);
            foreach (var queue in await QueuesOfAsync(result.Reclaimed, cancellationToken))
            {
                Wake(queue);
            }
        }

        Log("reclaim-stalled", "stalled jobs", $"{result.Reclaimed.Count} reclaimed, {result.Poisoned.Count} poisoned, {result.Cancelled.Count} cancelled, {result.DeadWorkers.Count} workers declared dead");
        return result;
    }

    /// <summary>Opens a job type's breaker by hand for the whole fleet.</summary>
    public Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken = default) =>
        CircuitBreakerActions.OpenAsync(_store, type, _logger, cancellationToken);

    /// <summary>Closes a job type's hand-opened breaker; false when none was open.</summary>
    public Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken = default) =>
        CircuitBreakerActions.CloseAsync(_store, type, _logger, cancellationToken);

    /// <summary>Applies <paramref name="change"/> to the queue's stored limits, validates and stores them; a queue whose limits change is woken (a raised limit frees work).</summary>
    public async Task<QueueLimits> ChangeQueueLimitsAsync(string queue, Func<QueueLimits, QueueLimits> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        JobValidator.ValidateQueue(queue);
        var current = (await _store.GetQueueLimitsAsync(cancellationToken)).GetValueOrDefault(queue) ?? QueueLimits.None;
        var limits = change(current).Validate();
        await _store.SetQueueLimitsAsync(queue, limits, cancellationToken);
        Wake(queue);
        Log("limits", queue, $"rate {limits.RatePerSecond?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, concurrency {limits.MaxRunning?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
        return limits;
    }

    /// <summary>Applies <paramref name="change"/> to the queue's stored policy (<see cref="QueuePolicyActions"/>).</summary>
    public Task<QueuePolicy> ChangeQueuePolicyAsync(string queue, Func<QueuePolicy, QueuePolicy> change, CancellationToken cancellationToken = default) =>
        QueuePolicyActions.ChangeAsync(_store, queue, change, _logger, cancellationToken);

    /// <summary>Creates or replaces a recurring job (its first tick computed from now unless the schedule is unchanged); returns it as stored.</summary>
    public async Task<RecurringJob> SetRecurringAsync(RecurringJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        await new RecurringScheduler(_store, _time).DefineAsync(job, cancellationToken);
        Log("recurring-set", job.Name, job.Cron);
        return (await _store.ListRecurringAsync(cancellationToken)).Single(r => r.Name == job.Name);
    }

    /// <summary>Removes a recurring job; false when there was none.</summary>
    public async Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken = default)
    {
        var removed = await _store.RemoveRecurringAsync(name, cancellationToken);
        Log("recurring-remove", name, removed ? "removed" : "none");
        return removed;
    }

    private static void JobId(long jobId)
    {
        if (jobId < 1)
        {
            throw new JobValidationException("id", $"A job id is a positive whole number (got {jobId}).");
        }
    }

    private async Task<IEnumerable<string>> QueuesOfAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken)
    {
        var queues = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (await _query.GetJobAsync(id, cancellationToken) is { } job)
            {
                queues.Add(job.Queue);
            }
        }

        return queues;
    }

    private void Wake(string queue) => _signal?.Notify(queue);

    private void Log(string action, string target, string outcome) => ServerLog.AdminAction(_logger, action, target, outcome);
}
