namespace Bulwark.Scheduling;

/// <summary>The answer to a <see cref="RecurringTick"/> claim.</summary>
/// <param name="Claimed">True when this claim won the tick (false: another scheduler did, or the definition changed or is gone).</param>
/// <param name="JobId">The job enqueued for the tick, when this claim won and enqueued one.</param>
public readonly record struct TickClaim(bool Claimed, long? JobId);
