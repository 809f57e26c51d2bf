using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Api;

/// <summary>
/// Per-queue hard limits (DESIGN.md §3). Keeps the store's queue depths from at most a second ago plus what this server
/// accepted since, so that checking a limit does not cost a store query per enqueue and a burst cannot overshoot it.
/// </summary>
internal sealed class QueueLimiter(IJobQuery query, BulwarkServerOptions options, TimeProvider time, ILogger<QueueLimiter> logger)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly Lock _gate = new();
    private Dictionary<string, long> _depth = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _accepted = new(StringComparer.Ordinal);
    private DateTimeOffset _takenAt = DateTimeOffset.MinValue;

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
                var depth = _depth.GetValueOrDefault(queue) + _accepted.GetValueOrDefault(queue);
                var limit = options.HardLimitFor(queue);
                if (depth + count > limit)
                {
                    ServerLog.QueueFull(logger, queue, depth, limit);
                    throw new ApiProblemException(StatusCodes.Status429TooManyRequests, "Queue full",
                        $"Queue '{queue}' holds {depth} waiting jobs and its hard limit is {limit}; nothing was stored. Retry after the Retry-After delay, once workers have drained it (or raise Bulwark:Server:Queues:{queue}:HardLimit).",
                        options.FullQueueRetryAfter);
                }
            }

            foreach (var (queue, count) in incoming)
            {
                _accepted[queue] = _accepted.GetValueOrDefault(queue) + count;
            }
        }
    }

    /// <summary>Gives back a reservation whose enqueue failed.</summary>
    public void Release(IReadOnlyList<NewJob> jobs)
    {
        lock (_gate)
        {
            foreach (var group in jobs.GroupBy(j => j.Queue, StringComparer.Ordinal))
            {
                _accepted[group.Key] = Math.Max(0, _accepted.GetValueOrDefault(group.Key) - group.Count());
            }
        }
    }

    /// <summary>Takes a fresh snapshot of queue depths (also called by the depth sampler).</summary>
    public void Update(IReadOnlyList<QueueStats> queues, DateTimeOffset takenAt)
    {
        var depth = queues.ToDictionary(q => q.Queue, QueueView.DepthOf, StringComparer.Ordinal);
        lock (_gate)
        {
            _depth = depth;
            _accepted.Clear();
            _takenAt = takenAt;
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (time.GetUtcNow() - _takenAt > MaxAge)
            {
                var takenAt = time.GetUtcNow();
                Update(await query.GetQueuesAsync(cancellationToken), takenAt);
            }
        }
        finally
        {
            _refresh.Release();
        }
    }
}
