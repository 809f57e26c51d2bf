using System.Globalization;
using Bulwark.Jobs;

namespace Bulwark.Scheduling;

/// <summary>
/// Fleet-wide caps on one queue, enforced by the store when it hands out leases, so they hold across every process.
/// </summary>
public sealed record QueueLimits
{
    /// <summary>Highest rate accepted.</summary>
    public const double MaxRate = 100_000;

    /// <summary>No limits.</summary>
    public static QueueLimits None { get; } = new();

    /// <summary>
    /// Most jobs started per second (a token bucket holding one second's worth, at least one job: a burst of up to
    /// that many, then a steady rate). Null: unlimited.
    /// </summary>
    public double? RatePerSecond { get; init; }

    /// <summary>Most jobs of the queue running at once across all workers. Null: unlimited.</summary>
    public int? MaxRunning { get; init; }

    /// <summary>True when neither limit is set.</summary>
    public bool IsNone => RatePerSecond is null && MaxRunning is null;

    /// <summary>Returns this or throws a <see cref="JobValidationException"/> saying what to change.</summary>
    public QueueLimits Validate()
    {
        if (RatePerSecond is { } rate && (double.IsNaN(rate) || rate <= 0 || rate > MaxRate))
        {
            throw new JobValidationException("rate_limit", $"The rate limit must be more than 0 and at most {MaxRate.ToString(CultureInfo.InvariantCulture)} jobs per second (got {rate.ToString(CultureInfo.InvariantCulture)}); leave it unset for no limit.");
        }

        if (MaxRunning is < 1)
        {
            throw new JobValidationException("concurrency_limit", $"The concurrency limit must be at least 1 (got {MaxRunning}); to stop a queue, pause it instead.");
        }

        return this;
    }
}
