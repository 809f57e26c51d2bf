using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>
/// Per-queue defaults kept fleet-wide by the store: applied by the store itself at enqueue to each job that does not set
/// its own attempts, timeout or backoff, and read by maintenance for the queue's retention. Part of <see cref="IJobStore"/>.
/// </summary>
public interface IQueuePolicyStore
{
    /// <summary>Sets a queue's policy (validated first; <see cref="QueuePolicy.None"/> clears it). Jobs enqueued from then on, by any process, take it.</summary>
    Task SetQueuePolicyAsync(string queue, QueuePolicy policy, CancellationToken cancellationToken = default);

    /// <summary>The queues that have a policy, with it.</summary>
    Task<IReadOnlyDictionary<string, QueuePolicy>> GetQueuePoliciesAsync(CancellationToken cancellationToken = default);
}
