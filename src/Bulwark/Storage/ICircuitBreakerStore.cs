namespace Bulwark.Storage;

/// <summary>
/// Per-type circuit breakers of the fleet, kept in the store: a breaker opened by hand holds for every worker until it is
/// closed; breakers that tripped on a worker's own failures are reported by that worker so the fleet can see them.
/// Part of <see cref="IJobStore"/>, so it passes through every store decorator.
/// </summary>
public interface ICircuitBreakerStore
{
    /// <summary>Opens <paramref name="type"/>'s breaker by hand for the whole fleet. Opening an open one keeps its <c>since</c>. Returns the breaker.</summary>
    Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken = default);

    /// <summary>Closes <paramref name="type"/>'s hand-opened breaker. Returns false when it was not open.</summary>
    Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken = default);

    /// <summary>Replaces the automatic breakers <paramref name="workerId"/> reports as open or half-open (none: all closed).</summary>
    Task ReportCircuitsAsync(string workerId, IReadOnlyList<CircuitBreakerRecord> breakers, CancellationToken cancellationToken = default);

    /// <summary>The hand-opened breakers and the automatic ones of active or draining workers, by type, then worker.</summary>
    Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken = default);
}
