using Bulwark.Storage;

namespace Bulwark.Server.Dashboard;

/// <summary>
/// The queue counts, read at most once a second however many dashboards poll (counting by queue and state walks an index,
/// so it is the costliest read a page makes). Each fresh read also feeds the throughput history.
/// </summary>
internal sealed class QueueSnapshots(IJobQuery query, ThroughputHistory history, TimeProvider time)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (IReadOnlyList<QueueStats> Queues, DateTimeOffset At)? _last;

    public async Task<IReadOnlyList<QueueStats>> GetAsync(CancellationToken cancellationToken, bool fresh = false)
    {
        if (!fresh && Current() is { } cached)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!fresh && Current() is { } again)
            {
                return again;
            }

            var queues = await query.GetQueuesAsync(cancellationToken);
            var now = time.GetUtcNow();
            history.Observe(queues, now);
            _last = (queues, now);
            return queues;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets the cached counts, after a control changed them.</summary>
    public void Invalidate() => _last = null;

    private IReadOnlyList<QueueStats>? Current() =>
        _last is { } last && time.GetUtcNow() - last.At < MaxAge ? last.Queues : null;
}
