namespace Bulwark.Scheduling;

/// <summary>Options of <see cref="RecurringScheduler"/>.</summary>
public sealed class RecurringSchedulerOptions
{
    /// <summary>
    /// A tick found due later than this is a misfire (the fleet was down), handled by the job's <see cref="MisfirePolicy"/>.
    /// Keep it well above the maintenance interval. Default 1 minute.
    /// </summary>
    public TimeSpan MisfireThreshold { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often <see cref="RecurringSchedulerService"/> runs a pass (default 1 s: a tick is enqueued within about a second).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Definitions declared in code (<c>AddRecurring</c>); upserted into the store by the first pass.</summary>
    public IList<RecurringJob> Definitions { get; } = [];
}
