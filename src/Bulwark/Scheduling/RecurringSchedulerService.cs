using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Scheduling;

/// <summary>Runs <see cref="RecurringScheduler.RunOnceAsync"/> every <see cref="RecurringSchedulerOptions.Interval"/>. Safe on every node.</summary>
internal sealed class RecurringSchedulerService(RecurringScheduler scheduler, RecurringSchedulerOptions options, TimeProvider time, ILogger<RecurringSchedulerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Interval, time);
        do
        {
            try
            {
                await scheduler.RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                SchedulingLog.PassFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
