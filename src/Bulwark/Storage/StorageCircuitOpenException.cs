namespace Bulwark.Storage;

/// <summary>
/// A write was refused without touching the store because the storage circuit is open (too many consecutive
/// persistence errors). Nothing was stored; try again after <see cref="RetryAfter"/>.
/// </summary>
public sealed class StorageCircuitOpenException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StorageCircuitOpenException(TimeSpan retryAfter, string? lastError)
        : base($"The store is unavailable: the storage circuit opened after repeated persistence errors{(lastError is null ? "" : $" (last: {lastError})")}. Nothing was stored; retry in {Math.Ceiling(retryAfter.TotalSeconds)} s.")
    {
        RetryAfter = retryAfter;
    }

    /// <summary>When a retry may succeed (the next probe).</summary>
    public TimeSpan RetryAfter { get; }
}
