namespace Bulwark.Cli.Tests;

/// <summary>The system clock moved by a fixed amount: a store opened with it writes leases that are already expired for everyone else.</summary>
public sealed class ShiftedTimeProvider(TimeSpan shift) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
}
