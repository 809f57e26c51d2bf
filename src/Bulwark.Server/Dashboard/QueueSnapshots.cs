using Bulwark.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Dashboard;

/// <summary>
/// The per-queue counts, shared by every page and poll. Counting by queue and state walks an index over every job, so a
/// page never waits for it when it has counts young enough: it gets the latest ones and, if they are older than a second,
/// one refresh starts in the background (stale-while-revalidate). So the store sees one count a second while anyone
/// watches, however many watch, and page loads do not grow with the number of jobs. Each fresh read also feeds the
/// throughput history.
/// </summary>
internal sealed class QueueSnapshots(IJobQuery query, ThroughputHistory history, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<QueueSnapshots> logger)
{
    public static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(1);

    /// <summary>How old counts shown on a page may be before the page waits for new ones.</summary>
    public static readonly TimeSpan PageStaleLimit = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile Snapshot? _last;
    private int _refreshing;

    /// <summary>The latest counts; waits for a read only when there are none or they are older than <paramref name="maxStale"/>.</summary>
    public async Task<IReadOnlyList<QueueStats>> GetAsync(TimeSpan maxStale, CancellationToken cancellationToken)
    {
        if (_last is { } last)
        {
            var age = time.GetUtcNow() - last.At;
            if (age > FreshFor)
            {
                RefreshInBackground();
            }

            if (age <= maxStale)
            {
                return last.Queues;
            }
        }

        return await RefreshAsync(cancellationToken);
    }

    /// <summary>Counts read now (or by a read that finished less than a second ago).</summary>
    public async Task<IReadOnlyList<QueueStats>> RefreshAsync(CancellationToken cancellationToken)
    {
        var asked = time.GetUtcNow();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // A read that started after this call was made answers it too: callers queued behind one read share it.
            if (_last is { } last && last.Started >= asked)
            {
                return last.Queues;
            }

            var started = time.GetUtcNow();
            var queues = await query.GetQueuesAsync(cancellationToken);
            var now = time.GetUtcNow();
            history.Observe(queues, now);
            _last = new Snapshot(queues, started, now);
            return queues;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets the counts, after a control changed them, so the next page reads new ones.</summary>
    public void Invalidate() => _last = null;

    private void RefreshInBackground()
    {
        if (Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await RefreshAsync(lifetime.ApplicationStopping);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                DashboardLog.SampleFailed(logger, ex);
            }
            catch (OperationCanceledException)
            {
                // The host is stopping.
            }
            finally
            {
                Volatile.Write(ref _refreshing, 0);
            }
        });
    }

    private sealed record Snapshot(IReadOnlyList<QueueStats> Queues, DateTimeOffset Started, DateTimeOffset At);
}
