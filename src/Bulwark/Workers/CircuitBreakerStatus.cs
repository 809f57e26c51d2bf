namespace Bulwark.Workers;

/// <summary>One job type's circuit breaker as it stands.</summary>
/// <param name="Type">The job type.</param>
/// <param name="State">Closed, half-open or open.</param>
/// <param name="ConsecutiveFailures">Failures in a row since the last success.</param>
/// <param name="Manual">True when an operator opened it: it stays open until closed by hand.</param>
public sealed record CircuitBreakerStatus(string Type, CircuitState State, int ConsecutiveFailures, bool Manual);
