using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Server.Api;
using Bulwark.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Observability;

/// <summary>
/// Every few seconds reads queue counts from the store into <c>bulwark_queue_depth</c> (and the oldest ready job's age)
/// and the hard-limit snapshot, the worker registry into <c>bulwark_workers</c> and <c>bulwark_fleet_utilization</c>,
/// and warns about queues past their warning depth. <see cref="RunOnceAsync"/> is one pass; the service only loops over it.
/// </summary>
internal sealed class QueueDepthSampler(
    IJobQuery query, BulwarkMetrics metrics, QueueLimiter limiter, BulwarkServerOptions options, TimeProvider time, ILogger<QueueDepthSampler> logger)
    : BackgroundService
{
    private readonly HashSet<string> _deep = new(StringComparer.Ordinal);

    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var takenAt = time.GetUtcNow();
        var readBegan = limiter.BeginSample();
        var queues = await query.GetQueuesAsync(cancellationToken);
        metrics.SetQueueDepth(queues.SelectMany(q => q.Counts.Select(c => (q.Queue, c.Key, c.Value))));
        limiter.Update(queues, takenAt, readBegan);
        metrics.SetOldestReady(queues.Select(q => (q.Queue, q[JobState.Ready] > 0 ? q.OldestReadyAt : null)), takenAt);
        // The fleet as the registry sees it, so the server's /metrics speaks for every worker process, not its own.
        metrics.SetFleet(await query.ListWorkersAsync(cancellationToken));
        foreach (var queue in queues)
        {
            var depth = QueueView.DepthOf(queue);
            var warning = options.WarningDepthFor(queue.Queue);
            metrics.SetQueueLimits(queue.Queue, warning, options.HardLimitFor(queue.Queue));
            // Warn once when a queue crosses its warning depth, not at every sample while it stays there.
            if (depth > warning && _deep.Add(queue.Queue))
            {
                ServerLog.QueueDeep(logger, queue.Queue, depth, warning);
            }
            else if (depth <= warning)
            {
                _deep.Remove(queue.Queue);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        metrics.PublishZeroes();
        using var timer = new PeriodicTimer(options.DepthSampleInterval, time);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ServerLog.SamplingFailed(logger, ex.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
