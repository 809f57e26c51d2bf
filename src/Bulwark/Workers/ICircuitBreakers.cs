namespace Bulwark.Workers;

/// <summary>The per-job-type circuit breakers of a worker: queryable, and openable and closable by hand.</summary>
public interface ICircuitBreakers
{
    /// <summary>Every job type that has a breaker (any type that failed or was opened by hand).</summary>
    IReadOnlyList<CircuitBreakerStatus> List();

    /// <summary>The state of one type's breaker (Closed when it has none).</summary>
    CircuitState GetState(string type);

    /// <summary>Opens a type's breaker by hand: its jobs are not leased until <see cref="Close"/>.</summary>
    void Open(string type);

    /// <summary>Closes a type's breaker and forgets its failures.</summary>
    void Close(string type);
}
