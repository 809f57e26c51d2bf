using Bulwark.Jobs;

namespace Bulwark.Testing;

public sealed partial class InMemoryJobStore
{
    private readonly Dictionary<string, QueuePolicy> _policies = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task SetQueuePolicyAsync(string queue, QueuePolicy policy, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _knownQueues.Add(queue);
            if (policy.IsNone)
            {
                _policies.Remove(queue);
            }
            else
            {
                _policies[queue] = policy;
            }

            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, QueuePolicy>> GetQueuePoliciesAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyDictionary<string, QueuePolicy>>(new Dictionary<string, QueuePolicy>(_policies, StringComparer.Ordinal));
        }
    }
}
