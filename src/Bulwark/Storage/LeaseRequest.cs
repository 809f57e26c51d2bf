namespace Bulwark.Storage;

/// <summary>A worker's request for work.</summary>
/// <param name="WorkerId">The worker id that will own the leases.</param>
/// <param name="Queues">Queues to take from, in order of preference (earlier queues are served first).</param>
/// <param name="Max">Most jobs to lease (the worker's free slots).</param>
/// <param name="LeaseDuration">How long each lease lasts unless renewed by a heartbeat.</param>
public sealed record LeaseRequest(string WorkerId, IReadOnlyList<string> Queues, int Max, TimeSpan LeaseDuration)
{
    /// <summary>Job types not to lease now (their circuit breaker is open).</summary>
    public IReadOnlyCollection<string> ExcludedTypes { get; init; } = [];
}
