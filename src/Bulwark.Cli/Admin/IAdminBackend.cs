using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;

namespace Bulwark.Cli.Admin;

/// <summary>
/// What the admin commands need from a Bulwark deployment: a store file opened directly
/// (<see cref="StoreAdminBackend"/>) or, selected by <c>--url</c>, a server's HTTP API.
/// Input reaching it has been validated; it reports "not found" and "wrong state" as results, not exceptions.
/// </summary>
internal interface IAdminBackend : IAsyncDisposable
{
    /// <summary>A short description for messages: "store ./bulwark.db" or "server http://…".</summary>
    string Describe { get; }

    Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken);

    Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken);

    Task<JobPage> ListJobsAsync(JobListQuery query, CancellationToken cancellationToken);

    Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken);

    Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken);

    Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken);

    /// <summary>Each queue's rate and concurrency limits that are set (empty when the store keeps none).</summary>
    Task<IReadOnlyDictionary<string, QueueLimits>> GetQueueLimitsAsync(CancellationToken cancellationToken);

    /// <summary>Each queue's stored policy that sets anything.</summary>
    Task<IReadOnlyDictionary<string, QueuePolicy>> GetQueuePoliciesAsync(CancellationToken cancellationToken);

    Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken);

    Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken);

    /// <summary>Deletes jobs of a queue in a state that finished (or were created) more than <paramref name="olderThan"/> ago.</summary>
    Task<int> DeleteJobsAsync(string queue, JobState state, TimeSpan olderThan, CancellationToken cancellationToken);

    Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Why the job is not running now, in the API's shape (<c>GET /jobs/{id}/explain</c>); null when there is no such job.</summary>
    Task<JsonElement?> ExplainAsync(long jobId, CancellationToken cancellationToken);

    /// <summary>Reclaims stalled jobs and declares silent workers dead now, as a maintenance pass would.</summary>
    Task<ReclaimResult> ReclaimStalledAsync(CancellationToken cancellationToken);

    /// <summary>Enqueues a flow (the JSON of <c>POST /flows</c>) atomically; each node's job id by name, parents first.</summary>
    Task<IReadOnlyList<KeyValuePair<string, long>>> SubmitFlowAsync(JsonElement flow, CancellationToken cancellationToken);

    Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces a recurring job; returns it as stored (with its next tick).</summary>
    Task<RecurringJob> SetRecurringAsync(RecurringJob job, CancellationToken cancellationToken);

    /// <summary>False when there was no such recurring job.</summary>
    Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken);

    /// <summary>Applies the change to the queue's limits; returns the limits now in force.</summary>
    Task<QueueLimits> ChangeQueueLimitsAsync(string queue, QueueLimitChange change, CancellationToken cancellationToken);

    /// <summary>The queue's stored policy (<see cref="QueuePolicy.None"/> when it has none).</summary>
    Task<QueuePolicy> GetQueuePolicyAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Applies a change in the API's shape (<c>PUT /queues/{q}/policy</c>: a field given is set, null clears it); returns the policy now in force.</summary>
    Task<QueuePolicy> ChangeQueuePolicyAsync(string queue, System.Text.Json.Nodes.JsonObject change, CancellationToken cancellationToken);

    /// <summary>The fleet's breakers: opened by hand, and each live worker's own.</summary>
    Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken);

    /// <summary>Opens a type's breaker by hand for the whole fleet; returns it.</summary>
    Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken);

    /// <summary>False when no breaker was open by hand for the type.</summary>
    Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken);
}
