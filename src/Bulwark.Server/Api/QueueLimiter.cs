using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Api;

/// <summary>
/// Per-queue hard limits (DESIGN.md §3). Keeps the store's queue depths from at most a second ago plus what this server
/// reserved since, so that checking a limit does not cost a store query per enqueue and a burst cannot overshoot it.
/// A depth sample only replaces reservations whose enqueue committed before the sample's read began: one still in
/// flight, or committed while the read ran, may be missing from the sample and keeps counting until the next one.
/// Two readers take samples (the depth sampler and a stale <see cref="ReserveAsync"/>), and on a busy machine their
/// reads can finish out of order: a sample whose read began before the one already applied is dropped, because the
/// reservations it lacks are already gone.
/// </summary>
internal sealed class QueueLimiter(IJobQuery query, BulwarkServerOptions options, TimeProvider time, ILogger<QueueLimiter> logger)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<IReadOnlyList<NewJob>, Reservation> _reservations = new(ReferenceEqualityComparer.Instance);
    private Dictionary<string, long> _depth = new(StringComparer.Ordinal);
    private DateTimeOffset _takenAt = DateTimeOffset.MinValue;
    private long _commits;
    private long _appliedReadBegan = -1;

    /// <summary>Reserves room for <paramref name="jobs"/> or throws a 429 naming the full queue. Nothing is reserved on refusal.</summary>
    public async Task ReserveAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() - _takenAt > MaxAge)
        {
            await RefreshAsync(cancellationToken);
        }

        var incoming = jobs.GroupBy(j => j.Queue, StringComparer.Ordinal).Select(g => (Queue: g.Key, Count: (long)g.Count())).ToArray();
        lock (_gate)
        {
            foreach (var (queue, count) in incoming)
            {
                var depth = _depth.GetValueOrDefault(queue) + Reserved(queue);
                var limit = options.HardLimitFor(queue);
                if (depth + count > limit)
                {
                    ServerLog.QueueFull(logger, queue, depth, limit);
                    throw new ApiProblemException(StatusCodes.Status429TooManyRequests, "Queue full",
                        $"Queue '{queue}' holds {depth} waiting jobs and its hard limit is {limit}; nothing was stored. Retry after the Retry-After delay, once workers have drained it (or raise Bulwark:Server:Queues:{queue}:HardLimit).",
                        options.FullQueueRetryAfter);
                }
            }

            _reservations[jobs] = new Reservation(incoming);
        }
    }

    /// <summary>Marks a reservation's enqueue as committed: the first sample whose read begins after this includes it.</summary>
    public void Committed(IReadOnlyList<NewJob> jobs)
    {
        lock (_gate)
        {
            if (_reservations.TryGetValue(jobs, out var reservation))
            {
                reservation.CommittedAt = ++_commits;
            }
        }
    }

    /// <summary>Gives back a reservation whose enqueue failed.</summary>
    public void Release(IReadOnlyList<NewJob> jobs)
    {
        lock (_gate)
        {
            _reservations.Remove(jobs);
        }
    }

    /// <summary>Call just before reading queue depths; pass the result to <see cref="Update"/>.</summary>
    public long BeginSample()
    {
        lock (_gate)
        {
            return _commits;
        }
    }

    /// <summary>
    /// Takes a fresh snapshot of queue depths (also called by the depth sampler). <paramref name="readBegan"/> is what
    /// <see cref="BeginSample"/> returned before the read: only reservations committed by then are in the snapshot.
    /// Returns false, changing nothing, when a sample whose read began later has been applied already.
    /// </summary>
    public bool Update(IReadOnlyList<QueueStats> queues, DateTimeOffset takenAt, long readBegan)
    {
        var depth = queues.ToDictionary(q => q.Queue, QueueView.DepthOf, StringComparer.Ordinal);
        lock (_gate)
        {
            if (readBegan < _appliedReadBegan)
            {
                return false;
            }

            _appliedReadBegan = readBegan;
            _depth = depth;
            foreach (var (jobs, reservation) in _reservations.ToArray())
            {
                if (reservation.CommittedAt is { } committed && committed <= readBegan)
                {
                    _reservations.Remove(jobs);
                }
            }

            if (takenAt > _takenAt)
            {
                _takenAt = takenAt;
            }
        }

        return true;
    }

    private long Reserved(string queue)
    {
        var total = 0L;
        foreach (var reservation in _reservations.Values)
        {
            foreach (var (q, count) in reservation.Counts)
            {
                if (string.Equals(q, queue, StringComparison.Ordinal))
                {
                    total += count;
                }
            }
        }

        return total;
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (time.GetUtcNow() - _takenAt > MaxAge)
            {
                var takenAt = time.GetUtcNow();
                var readBegan = BeginSample();
                Update(await query.GetQueuesAsync(cancellationToken), takenAt, readBegan);
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    private sealed class Reservation((string Queue, long Count)[] counts)
    {
        public (string Queue, long Count)[] Counts { get; } = counts;

        public long? CommittedAt { get; set; }
    }
}
