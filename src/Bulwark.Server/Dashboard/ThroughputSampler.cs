using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Dashboard;

/// <summary>Samples the queue counts every 10 seconds so the throughput charts have the last hour even when no one watched.</summary>
internal sealed class ThroughputSampler(QueueSnapshots snapshots, TimeProvider time, ILogger<ThroughputSampler> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    public async Task RunOnceAsync(CancellationToken cancellationToken) => await snapshots.RefreshAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                DashboardLog.SampleFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
