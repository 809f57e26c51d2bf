using Bulwark.Diagnostics;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Maintenance;

/// <summary>
/// Promotes due jobs, reclaims stalled ones (expired leases, dead workers), expires lifetimes, purges by retention and,
/// given a <see cref="RecurringScheduler"/>, enqueues due recurring ticks. Every step is one idempotent (or guarded) store
/// statement, so any number of processes may run it at once.
/// </summary>
public sealed class MaintenanceService : BackgroundService
{
    private readonly IJobStore _store;
    private readonly MaintenanceOptions _options;
    private readonly TimeProvider _time;
    private readonly BulwarkMetrics _metrics;
    private readonly ILogger _logger;
    private readonly RecurringScheduler? _recurring;
    private long? _lastPurge;

    /// <summary>Creates the service; throws when the options are unusable, saying what to change.</summary>
    public MaintenanceService(IJobStore store, MaintenanceOptions options, TimeProvider time, BulwarkMetrics metrics, ILogger<MaintenanceService> logger)
        : this(store, options, time, metrics, logger, recurring: null)
    {
    }

    /// <summary>
    /// Creates the service that also runs <paramref name="recurring"/> once per pass (cron definitions stored through the API
    /// or the store). Pass null when another loop runs the scheduler (<c>AddRecurring</c>'s hosted service).
    /// </summary>
    public MaintenanceService(IJobStore store, MaintenanceOptions options, TimeProvider time, BulwarkMetrics metrics, ILogger<MaintenanceService> logger, RecurringScheduler? recurring)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("The maintenance options are not usable: " + string.Join(" ", problems), nameof(options));
        }

        _store = store ?? throw new ArgumentNullException(nameof(store));
        _options = options;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _recurring = recurring;
    }

    /// <summary>One pass. A failing step is counted and logged; the others still run.</summary>
    public async Task<MaintenancePass> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var errors = 0;
        var promoted = await StepAsync("promote", () => _store.PromoteDueAsync(cancellationToken), 0);
        if (promoted > 0)
        {
            MaintenanceLog.Promoted(_logger, promoted);
        }

        var reclaim = await StepAsync("reclaim", () => _store.ReclaimAsync(_options.WorkerDeadAfter, cancellationToken), ReclaimResult.None);
        if (reclaim.Total > 0 || reclaim.DeadWorkers.Count > 0)
        {
            _metrics.StalledReclaimed(reclaim.Total);
            if (reclaim.Poisoned.Count > 0)
            {
                _metrics.JobsDeadLettered("*", reclaim.Poisoned.Count, "poison");
            }

            MaintenanceLog.Reclaimed(_logger, reclaim.Reclaimed.Count, reclaim.Poisoned.Count, reclaim.Cancelled.Count, string.Join(',', reclaim.DeadWorkers));
        }

        var expired = await StepAsync("expire", () => _store.ExpireAsync(cancellationToken), 0);
        if (expired > 0)
        {
            _metrics.JobsDeadLettered("*", expired, "expired");
            MaintenanceLog.Expired(_logger, expired);
        }

        var purged = 0;
        if (_lastPurge is null || _time.GetElapsedTime(_lastPurge.Value) >= _options.PurgeInterval)
        {
            _lastPurge = _time.GetTimestamp();
            purged = await StepAsync("purge", () => _store.PurgeAsync(_options.Retention, cancellationToken), 0);
            if (purged > 0)
            {
                MaintenanceLog.Purged(_logger, purged);
            }
        }

        // The scheduler logs each tick it claims; a lost claim (another process won the tick) is not an error.
        var recurring = _recurring is null ? 0 : await StepAsync("recurring", () => _recurring.RunOnceAsync(cancellationToken), 0);

        return new MaintenancePass(promoted, reclaim, expired, purged, errors) { RecurringEnqueued = recurring };

        async Task<T> StepAsync<T>(string step, Func<Task<T>> run, T fallback)
        {
            try
            {
                return await run();
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                errors++;
                _metrics.PersistenceError("maintenance." + step);
                MaintenanceLog.StepFailed(_logger, ex, step);
                return fallback;
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                await Task.Delay(_options.Interval, _time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
