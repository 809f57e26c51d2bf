namespace Bulwark.Workers;

/// <summary>The state of a job type's circuit breaker. The numbers are those of the <c>circuit_breaker_state</c> gauge.</summary>
public enum CircuitState
{
    /// <summary>Jobs of the type are leased.</summary>
    Closed = 0,
    /// <summary>The reset time passed: one trial job is leased; success closes the circuit, failure opens it again.</summary>
    HalfOpen = 1,
    /// <summary>Jobs of the type are not leased.</summary>
    Open = 2,
}
