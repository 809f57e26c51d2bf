namespace Bulwark.Jobs;

/// <summary>The same delay before every retry.</summary>
public sealed record FixedBackoff(TimeSpan Delay) : BackoffPolicy
{
    /// <inheritdoc />
    public override TimeSpan DelayFor(int attempt, double random) => Delay;

    /// <inheritdoc />
    public override BackoffPolicy Validated() =>
        Delay < TimeSpan.Zero ? throw new JobValidationException("backoff", "A fixed backoff cannot be negative.") : this;

    /// <inheritdoc />
    public override string ToString() => $"fixed({DurationText.Format(Delay)})";
}
