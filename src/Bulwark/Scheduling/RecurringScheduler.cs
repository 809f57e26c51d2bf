using Bulwark.Jobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Scheduling;

/// <summary>
/// Enqueues recurring jobs: each pass reads the definitions, and for each one whose next tick has come claims that tick
/// in the store (one guarded statement with the enqueue), so any number of processes may run passes at once and each
/// tick is enqueued exactly once. Call <see cref="RunOnceAsync"/> from the maintenance loop.
/// </summary>
public sealed class RecurringScheduler
{
    private readonly IRecurringJobStore _store;
    private readonly TimeProvider _time;
    private readonly RecurringSchedulerOptions _options;
    private readonly ILogger _logger;
    private bool _definitionsStored;

    /// <summary>Creates a scheduler over a store; <paramref name="time"/> should read the same clock as the store.</summary>
    public RecurringScheduler(IRecurringJobStore store, TimeProvider? time = null, RecurringSchedulerOptions? options = null, ILogger<RecurringScheduler>? logger = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _time = time ?? TimeProvider.System;
        _options = options ?? new RecurringSchedulerOptions();
        if (_options.MisfireThreshold <= TimeSpan.Zero)
        {
            throw new ArgumentException($"RecurringSchedulerOptions.MisfireThreshold must be positive (got {_options.MisfireThreshold}); a minute suits most fleets.", nameof(options));
        }

        if (_options.Interval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"RecurringSchedulerOptions.Interval must be positive (got {_options.Interval}); one second suits most fleets.", nameof(options));
        }

        foreach (var definition in _options.Definitions)
        {
            definition.Validate();
        }

        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>Validates a definition and stores it, its first tick computed from now (kept when the schedule is unchanged).</summary>
    public async Task DefineAsync(RecurringJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        job.Validate();
        var first = CronSchedule.Parse(job.Cron, job.TimeZone).NextAfter(_time.GetUtcNow())
            ?? throw new JobValidationException("cron", $"'{job.Cron}' never fires after now; give an expression with future ticks.");
        await _store.UpsertRecurringAsync(job with { NextTick = first, LastTick = null, LastJobId = null }, cancellationToken);
    }

    /// <summary>One pass: claims every due tick. Returns the jobs enqueued by this pass.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        if (!_definitionsStored)
        {
            foreach (var definition in _options.Definitions)
            {
                await DefineAsync(definition, cancellationToken);
            }

            _definitionsStored = true;
        }

        var enqueued = 0;
        var now = _time.GetUtcNow();
        foreach (var job in await _store.ListRecurringAsync(cancellationToken))
        {
            if (job.NextTick > now)
            {
                continue;
            }

            CronSchedule schedule;
            try
            {
                schedule = CronSchedule.Parse(job.Cron, job.TimeZone);
            }
            catch (JobValidationException ex)
            {
                // A definition stored by a machine that knows a time zone this one does not: leave it to machines that can read it.
                SchedulingLog.Unreadable(_logger, job.Name, ex.Reason);
                continue;
            }

            var tick = schedule.LatestDue(job.NextTick, now);
            var missed = now - tick > _options.MisfireThreshold;
            var run = !missed || job.Misfire == MisfirePolicy.RunOnce;
            var claim = await _store.ClaimRecurringTickAsync(
                new RecurringTick(job.Name, job.NextTick, tick, schedule.NextAfter(now), run ? job.ToNewJob(tick) : null),
                cancellationToken);
            if (!claim.Claimed)
            {
                continue;
            }

            if (claim.JobId is { } id)
            {
                enqueued++;
                SchedulingLog.Enqueued(_logger, job.Name, tick, id);
            }
            else
            {
                SchedulingLog.Skipped(_logger, job.Name, tick);
            }
        }

        return enqueued;
    }
}
