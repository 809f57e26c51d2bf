using System.Globalization;

namespace Bulwark.Jobs;

/// <summary>Exponential backoff with a cap and jitter.</summary>
public sealed record ExponentialBackoff(TimeSpan BaseDelay, TimeSpan MaxDelay, double Jitter) : BackoffPolicy
{
    /// <inheritdoc />
    public override TimeSpan DelayFor(int attempt, double random)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 62);
        var raw = BaseDelay.TotalMilliseconds * Math.Pow(2, exponent);
        var capped = Math.Min(raw, MaxDelay.TotalMilliseconds);
        // Jitter spreads retries of a failed batch so they do not stampede the recovered dependency.
        var factor = 1 + (Jitter * ((2 * Math.Clamp(random, 0, 1)) - 1));
        return TimeSpan.FromMilliseconds(Math.Min(capped * factor, MaxDelay.TotalMilliseconds));
    }

    /// <inheritdoc />
    public override BackoffPolicy Validated()
    {
        if (BaseDelay < TimeSpan.Zero || MaxDelay < TimeSpan.Zero)
        {
            throw new JobValidationException("backoff", "Backoff delays cannot be negative.");
        }

        if (MaxDelay < BaseDelay)
        {
            throw new JobValidationException("backoff", $"The backoff cap ({DurationText.Format(MaxDelay)}) is below its base ({DurationText.Format(BaseDelay)}); raise the cap.");
        }

        if (Jitter is < 0 or > 1 || double.IsNaN(Jitter))
        {
            throw new JobValidationException("backoff", $"Backoff jitter must be between 0 and 1 (got {Jitter.ToString(CultureInfo.InvariantCulture)}).");
        }

        return this;
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"exponential({DurationText.Format(BaseDelay)},{DurationText.Format(MaxDelay)},{Jitter})");
}
