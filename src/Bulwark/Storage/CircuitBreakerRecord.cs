using Bulwark.Workers;

namespace Bulwark.Storage;

/// <summary>One job type's breaker as the store holds it.</summary>
/// <param name="Type">The job type.</param>
/// <param name="State">Open or half-open (a closed breaker has no record).</param>
/// <param name="WorkerId">The worker whose own failures tripped it; null for a breaker opened by hand for the whole fleet.</param>
/// <param name="Since">When it opened (the store's clock for one opened by hand, the worker's for an automatic one).</param>
/// <param name="ResetAt">When an automatic breaker half-opens for a trial job; null for one opened by hand (it stays open until closed).</param>
/// <param name="ConsecutiveFailures">Failures in a row on that worker; 0 for one opened by hand.</param>
public sealed record CircuitBreakerRecord(string Type, CircuitState State, string? WorkerId, DateTimeOffset Since, DateTimeOffset? ResetAt, int ConsecutiveFailures)
{
    /// <summary>True when an operator opened it for the whole fleet.</summary>
    public bool Manual => WorkerId is null;
}
