using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Maintenance;

/// <summary>
/// Promotes due jobs, reclaims stalled ones (expired leases, dead workers), expires lifetimes, purges by retention and,
/// given a <see cref="RecurringScheduler"/>, enqueues due recurring ticks. Every step is one idempotent (or guarded) store
/// statement, so any number of processes may run it at once. Passes run every <see cref="MaintenanceOptions.Interval"/>, and
/// sooner when a registered worker's silence is about to reach <see cref="MaintenanceOptions.WorkerDeadAfter"/>, so a killed
/// worker's jobs are reclaimed when the store first allows it rather than up to one interval later.
/// </summary>
public sealed class MaintenanceService : BackgroundService
{
    private const string AnyQueue = "*";

    // The stores declare a worker dead once silent for strictly longer than WorkerDeadAfter: a pass woken by that deadline
    // runs just after it.
    private static readonly TimeSpan DeadlineMargin = TimeSpan.FromMilliseconds(10);

    private readonly IJobStore _store;
    private readonly MaintenanceOptions _options;
    private readonly TimeProvider _time;
    private readonly BulwarkMetrics _metrics;
    private readonly ILogger _logger;
    private readonly RecurringScheduler? _recurring;
    private readonly IJobQuery? _query;
    private readonly JobSignal? _signal;
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
        : this(store, options, time, metrics, logger, recurring, store as IJobQuery, signal: null)
    {
    }

    /// <summary>
    /// Creates the service with the reads it times its passes by and the signal it wakes in-process workers with.
    /// <paramref name="query"/> lists the workers, so a pass runs the moment one of them has been silent for
    /// <see cref="MaintenanceOptions.WorkerDeadAfter"/> (null: every <see cref="MaintenanceOptions.Interval"/> only).
    /// <paramref name="signal"/> is notified when a pass makes jobs ready (reclaimed or promoted), so this host's workers lease
    /// them at once instead of at their next poll (null: they poll).
    /// </summary>
    public MaintenanceService(IJobStore store, MaintenanceOptions options, TimeProvider time, BulwarkMetrics metrics, ILogger<MaintenanceService> logger, RecurringScheduler? recurring, IJobQuery? query, JobSignal? signal)
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
        _query = query;
        _signal = signal;
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

        if (promoted > 0 || reclaim.Reclaimed.Count > 0)
        {
            // The store does not say which queues; workers of every queue look once, which costs one lease call each.
            _signal?.Notify(AnyQueue);
        }

        var expired = await StepAsync("expire", () => _store.ExpireAsync(cancellationToken), 0);
        if (expired > 0)
        {
            _metrics.JobsDeadLettered("*", expired, "expired");
            MaintenanceLog.Expired(_logger, expired);
        }

        var purged = 0;
        var purgedWorkers = 0;
        if (_lastPurge is null || _time.GetElapsedTime(_lastPurge.Value) >= _options.PurgeInterval)
        {
            _lastPurge = _time.GetTimestamp();
            purged = await StepAsync("purge", async () => await _store.PurgeAsync(
                RetentionWithStoredPolicies(_options.Retention, await _store.GetQueuePoliciesAsync(cancellationToken)), cancellationToken), 0);
            if (purged > 0)
            {
                MaintenanceLog.Purged(_logger, purged);
            }

            // Every restart leaves a stopped or dead row behind; without this the registry, and the reads of it that time
            // each pass, would grow for ever.
            purgedWorkers = await StepAsync("purge_workers", () => _store.PurgeWorkersAsync(_options.WorkerRetention, cancellationToken), 0);
            if (purgedWorkers > 0)
            {
                MaintenanceLog.WorkersPurged(_logger, purgedWorkers, DurationText.Format(_options.WorkerRetention));
            }
        }

        // The scheduler logs each tick it claims; a lost claim (another process won the tick) is not an error.
        var recurring = _recurring is null ? 0 : await StepAsync("recurring", () => _recurring.RunOnceAsync(cancellationToken), 0);

        return new MaintenancePass(promoted, reclaim, expired, purged, errors) { RecurringEnqueued = recurring, PurgedWorkers = purgedWorkers };

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

    /// <summary>
    /// How long to wait before the next pass: the interval, or less when a worker that is active or draining will have been
    /// silent for <see cref="MaintenanceOptions.WorkerDeadAfter"/> before then. Without the list of workers (no query, or
    /// it failed), the interval.
    /// </summary>
    internal async Task<TimeSpan> NextPassDelayAsync(CancellationToken cancellationToken)
    {
        if (_query is null)
        {
            return _options.Interval;
        }

        try
        {
            return DelayUntilNextPass(await _query.ListWorkersAsync(cancellationToken), _time.GetUtcNow(), _options);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Only the timing of the next pass depends on it; the reclaim step reports store failures.
            MaintenanceLog.WorkersUnreadable(_logger, ex);
            return _options.Interval;
        }
    }

    /// <summary>
    /// The interval, shortened to the earliest moment a live worker's silence passes <see cref="MaintenanceOptions.WorkerDeadAfter"/>.
    /// Heartbeat times are the store's clock and <paramref name="now"/> is this process's: a deadline that already passed is
    /// ignored (the pass that just ran had its chance; if the store disagreed, the clocks differ and the interval applies),
    /// so a skewed clock can make a pass no later than the interval would, and never makes passes spin.
    /// </summary>
    internal static TimeSpan DelayUntilNextPass(IReadOnlyList<WorkerInfo> workers, DateTimeOffset now, MaintenanceOptions options)
    {
        var delay = options.Interval;
        foreach (var worker in workers)
        {
            if (worker.State is not (WorkerState.Active or WorkerState.Draining))
            {
                continue;
            }

            var due = worker.HeartbeatAt + options.WorkerDeadAfter + DeadlineMargin - now;
            if (due > TimeSpan.Zero && due < delay)
            {
                delay = due;
            }
        }

        return delay;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                await Task.Delay(await NextPassDelayAsync(stoppingToken), _time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The retention to purge by: a queue's retention stored in its policy (<c>PUT /queues/{q}/policy</c>) outranks the
    /// configured one (<c>Bulwark:Queues:&lt;queue&gt;:Retention</c> or <see cref="RetentionPolicy.Queues"/>), and covers
    /// every finished state of that queue.
    /// </summary>
    internal static RetentionPolicy RetentionWithStoredPolicies(RetentionPolicy configured, IReadOnlyDictionary<string, QueuePolicy> stored)
    {
        var overrides = stored.Where(p => p.Value.Retention is not null).ToArray();
        if (overrides.Length == 0)
        {
            return configured;
        }

        var queues = new Dictionary<string, RetentionPolicy>(configured.Queues, StringComparer.Ordinal);
        foreach (var (queue, policy) in overrides)
        {
            queues[queue] = RetentionPolicy.Keeping(policy.Retention!.Value);
        }

        return configured with { Queues = queues };
    }
}
