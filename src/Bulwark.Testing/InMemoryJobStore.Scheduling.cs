using Bulwark.Jobs;
using Bulwark.Scheduling;

namespace Bulwark.Testing;

public sealed partial class InMemoryJobStore
{
    private readonly Dictionary<string, RecurringJob> _recurring = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueueLimits> _limits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (double Tokens, DateTimeOffset RefilledAt)> _buckets = new(StringComparer.Ordinal);

    // Running jobs per limited queue, counted once per lease call (cleared by LeaseAsync) and raised as that call leases.
    private readonly Dictionary<string, int> _runningDuringLease = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task UpsertRecurringAsync(RecurringJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        job.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var stored = job with { LastTick = null, LastJobId = null };
            if (_recurring.TryGetValue(job.Name, out var existing))
            {
                var sameSchedule = existing.Cron == job.Cron && existing.TimeZone == job.TimeZone;
                stored = stored with
                {
                    NextTick = sameSchedule ? existing.NextTick : job.NextTick,
                    LastTick = existing.LastTick,
                    LastJobId = existing.LastJobId,
                };
            }

            _recurring[job.Name] = stored;
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken = default)
    {
        RecurringJob.ValidateName(name);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_recurring.Remove(name));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<RecurringJob>>(_recurring.Values.OrderBy(r => r.Name, StringComparer.Ordinal).ToArray());
        }
    }

    /// <inheritdoc />
    public Task<TickClaim> ClaimRecurringTickAsync(RecurringTick tick, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tick);
        cancellationToken.ThrowIfCancellationRequested();
        if (tick.Job is not null)
        {
            JobValidator.Validate(tick.Job, int.MaxValue);
        }

        // The guard and the enqueue must be one step: hold the gate across both (the lock is re-entrant, EnqueueAsync completes synchronously).
        lock (_gate)
        {
            if (!_recurring.TryGetValue(tick.Name, out var job) || job.NextTick != tick.ExpectedNextTick)
            {
                return Task.FromResult(new TickClaim(false, null));
            }

            long? id = null;
            if (tick.Job is not null)
            {
                id = EnqueueAsync([tick.Job], cancellationToken).GetAwaiter().GetResult()[0].Id;
            }

            _recurring[tick.Name] = job with
            {
                NextTick = tick.NextTick ?? DateTimeOffset.MaxValue,
                LastTick = tick.Tick,
                LastJobId = id ?? job.LastJobId,
            };
            return Task.FromResult(new TickClaim(true, id));
        }
    }

    /// <inheritdoc />
    public Task SetQueueLimitsAsync(string queue, QueueLimits limits, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _knownQueues.Add(queue);
            _buckets.Remove(queue);
            if (limits.IsNone)
            {
                _limits.Remove(queue);
            }
            else
            {
                _limits[queue] = limits;
            }

            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, QueueLimits>> GetQueueLimitsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyDictionary<string, QueueLimits>>(new Dictionary<string, QueueLimits>(_limits, StringComparer.Ordinal));
        }
    }

    /// <summary>
    /// Called (under the gate) for each lease candidate in order: true when the queue's limits allow one more start now,
    /// and then that start is charged (a rate token taken). Running jobs are counted live, so leases in this call count too.
    /// </summary>
    private bool TakeAllowance(string queue, DateTimeOffset now)
    {
        if (!_limits.TryGetValue(queue, out var limits))
        {
            return true;
        }

        if (!_runningDuringLease.TryGetValue(queue, out var running))
        {
            running = _jobs.Values.Count(j => j.Queue == queue && j.State == JobState.Running);
        }

        if (limits.MaxRunning is { } maxRunning && running >= maxRunning)
        {
            return false;
        }

        if (limits.RatePerSecond is { } rate)
        {
            var capacity = Math.Max(1, rate);
            var (tokens, refilledAt) = _buckets.TryGetValue(queue, out var bucket) ? bucket : (capacity, now);
            tokens = Math.Min(capacity, tokens + Math.Max(0, (now - refilledAt).TotalSeconds) * rate);
            if (tokens + 1e-9 < 1)
            {
                _buckets[queue] = (tokens, now);
                return false;
            }

            _buckets[queue] = (tokens - 1, now);
        }

        _runningDuringLease[queue] = running + 1;
        return true;
    }
}
