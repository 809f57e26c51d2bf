namespace Bulwark.Cli.Worker;

/// <summary>
/// The system clock shifted by a fixed offset, as on a machine whose clock is wrong. Only the wall clock moves: timestamps
/// (durations) stay monotonic, as they do on a real skewed machine.
/// </summary>
internal sealed class OffsetTimeProvider(TimeProvider inner, TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + offset;

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;
}
