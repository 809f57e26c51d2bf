namespace Bulwark.Jobs;

/// <summary>An explicit list of delays; the last one repeats.</summary>
public sealed record StepBackoff(IReadOnlyList<TimeSpan> Delays) : BackoffPolicy
{
    /// <inheritdoc />
    public override TimeSpan DelayFor(int attempt, double random) => Delays[Math.Clamp(attempt - 1, 0, Delays.Count - 1)];

    /// <inheritdoc />
    public override BackoffPolicy Validated()
    {
        if (Delays.Count == 0)
        {
            throw new JobValidationException("backoff", "A backoff list needs at least one delay, like 1s,5s,30s.");
        }

        return Delays.Any(d => d < TimeSpan.Zero) ? throw new JobValidationException("backoff", "Backoff delays cannot be negative.") : this;
    }

    /// <inheritdoc />
    public bool Equals(StepBackoff? other) => other is not null && Delays.SequenceEqual(other.Delays);

    /// <inheritdoc />
    public override int GetHashCode() => Delays.Aggregate(17, (h, d) => HashCode.Combine(h, d));

    /// <inheritdoc />
    public override string ToString() => string.Join(",", Delays.Select(DurationText.Format));
}
