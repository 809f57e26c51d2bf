using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Maintenance;

/// <summary>How often maintenance runs and what it keeps.</summary>
public sealed class MaintenanceOptions
{
    /// <summary>Time between passes. Default 1 s.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A worker silent this long is declared dead and its jobs reclaimed. Default 10 s.</summary>
    public TimeSpan WorkerDeadAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long finished jobs are kept (DESIGN.md: completed 24 h, failed and dead letter 7 days).</summary>
    public RetentionPolicy Retention { get; set; } = RetentionPolicy.Default;

    /// <summary>Time between purges (a purge is heavier than the other steps). Default 1 min.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long the registrations of stopped and dead workers are kept (for <c>bulwark workers</c>, the API and the
    /// dashboard) before a purge deletes them, so the registry does not grow with every restart. Default 24 h.
    /// </summary>
    public TimeSpan WorkerRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Every problem with these options, each saying what to change.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Interval <= TimeSpan.Zero)
        {
            errors.Add($"The maintenance interval must be positive (got {DurationText.Format(Interval)}).");
        }

        if (WorkerDeadAfter < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"WorkerDeadAfter must be at least 100ms (got {DurationText.Format(WorkerDeadAfter)}); it should exceed the heartbeat interval several times.");
        }

        if (PurgeInterval <= TimeSpan.Zero)
        {
            errors.Add("The purge interval must be positive.");
        }

        // Shorter than the dead-worker timeout, a dead worker's row could go before an operator ever saw it declared dead.
        if (WorkerRetention < WorkerDeadAfter)
        {
            errors.Add($"WorkerRetention must be at least WorkerDeadAfter ({DurationText.Format(WorkerDeadAfter)}; got {DurationText.Format(WorkerRetention)}); the default is 24h.");
        }

        if (Retention is null || Retention.BatchSize < 1)
        {
            errors.Add("The retention policy must be set with a batch size of at least 1.");
        }

        return errors;
    }
}
