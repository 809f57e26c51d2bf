namespace Bulwark.Scheduling;

/// <summary>Per-queue rate and concurrency limits kept (and enforced at lease time) by a store.</summary>
public interface IQueueLimitStore
{
    /// <summary>Sets a queue's limits (<see cref="QueueLimits.None"/> clears them). Persisted; honoured by every process's next lease.</summary>
    Task SetQueueLimitsAsync(string queue, QueueLimits limits, CancellationToken cancellationToken = default);

    /// <summary>The queues that have limits, with them.</summary>
    Task<IReadOnlyDictionary<string, QueueLimits>> GetQueueLimitsAsync(CancellationToken cancellationToken = default);
}
