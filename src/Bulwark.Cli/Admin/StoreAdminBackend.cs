using System.Text.Json;
using Bulwark.Cli.Commands;
using Bulwark.Client;
using Bulwark.Flows;
using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Server.Api;
using Bulwark.Maintenance;
using Bulwark.Storage;

namespace Bulwark.Cli.Admin;

/// <summary>Admin actions straight on a store (the embedded SQLite file); enqueue goes through <see cref="JobClient"/> so its validation is the library's.</summary>
internal sealed class StoreAdminBackend : IAdminBackend
{
    private readonly IJobStore _store;
    private readonly IJobQuery _query;
    private readonly JobClient _client;
    private readonly TimeProvider _time;
    private readonly AdminActions _admin;

    public StoreAdminBackend(IJobStore store, IJobQuery query, string describe, TimeProvider? time = null)
    {
        _store = store;
        _query = query;
        _time = time ?? TimeProvider.System;
        _client = new JobClient(store, query, time: _time);
        // The same actions the server's API and dashboard run; no workers in this process to wake.
        _admin = new AdminActions(store, query, new MaintenanceOptions().WorkerDeadAfter, _time);
        Describe = describe;
    }

    public string Describe { get; }

    public Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        _client.EnqueueManyAsync(jobs, cancellationToken);

    public Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken) => _client.GetAsync(jobId, cancellationToken);

    public Task<JobPage> ListJobsAsync(JobListQuery query, CancellationToken cancellationToken) => _client.ListAsync(query, cancellationToken);

    public Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken) => _admin.CancelAsync(jobId, cancellationToken);

    public Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken) => _admin.RetryAsync(jobId, cancellationToken);

    public Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken) => _client.GetQueuesAsync(cancellationToken);

    public Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken) => _admin.RetryDeadLettersAsync(queue, cancellationToken);

    public Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken) => _store.ListCircuitsAsync(cancellationToken);

    public Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken) => _admin.OpenCircuitAsync(type, cancellationToken);

    public Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken) => _admin.CloseCircuitAsync(type, cancellationToken);

    public Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken) => _admin.SetPausedAsync(queue, paused, cancellationToken);

    public Task<int> DeleteJobsAsync(string queue, JobState state, TimeSpan olderThan, CancellationToken cancellationToken) =>
        _admin.PurgeAsync(queue, state, olderThan, cancellationToken);

    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken) => _query.ListWorkersAsync(cancellationToken);

    public Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit, CancellationToken cancellationToken) =>
        _query.ListStalledAsync(limit, cancellationToken);

    public async Task<JsonElement?> ExplainAsync(long jobId, CancellationToken cancellationToken)
    {
        if (await _query.GetJobAsync(jobId, cancellationToken) is not { } job)
        {
            return null;
        }

        // Straight from the store (its limits and the fleet's breakers); no storage circuit of a running process to consult.
        var explanation = await JobExplainer.ExplainAsync(job, _store, _query, _time, EmptyServices.Instance, cancellationToken);
        return JsonSerializer.SerializeToElement(explanation, ApiShape);
    }

    public Task<ReclaimResult> ReclaimStalledAsync(CancellationToken cancellationToken) => _admin.ReclaimStalledAsync(cancellationToken);

    // The API's field names, so that --json reads the same whichever back-end answered.
    private static readonly JsonSerializerOptions ApiShape = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }

    public async Task<IReadOnlyList<KeyValuePair<string, long>>> SubmitFlowAsync(JsonElement flow, CancellationToken cancellationToken)
    {
        var builder = FlowRequestReader.Read(flow);
        var ids = await _client.EnqueueFlowAsync(builder, cancellationToken);
        return builder.TopologicalOrder().Select(name => KeyValuePair.Create(name, ids[name])).ToArray();
    }

    public Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken) => _store.ListRecurringAsync(cancellationToken);

    public Task<RecurringJob> SetRecurringAsync(RecurringJob job, CancellationToken cancellationToken) => _admin.SetRecurringAsync(job, cancellationToken);

    public Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken) => _admin.RemoveRecurringAsync(name, cancellationToken);

    public Task<IReadOnlyDictionary<string, QueueLimits>> GetQueueLimitsAsync(CancellationToken cancellationToken) =>
        _store.GetQueueLimitsAsync(cancellationToken);

    public Task<IReadOnlyDictionary<string, QueuePolicy>> GetQueuePoliciesAsync(CancellationToken cancellationToken) =>
        _store.GetQueuePoliciesAsync(cancellationToken);

    public Task<QueueLimits> ChangeQueueLimitsAsync(string queue, QueueLimitChange change, CancellationToken cancellationToken) =>
        _admin.ChangeQueueLimitsAsync(queue, current => change.Clear
            ? QueueLimits.None
            : current with { RatePerSecond = change.Rate ?? current.RatePerSecond, MaxRunning = change.Concurrency ?? current.MaxRunning }, cancellationToken);

    public Task<QueuePolicy> GetQueuePolicyAsync(string queue, CancellationToken cancellationToken) =>
        QueuePolicyActions.GetAsync(_store, queue, cancellationToken);

    public Task<QueuePolicy> ChangeQueuePolicyAsync(string queue, System.Text.Json.Nodes.JsonObject change, CancellationToken cancellationToken) =>
        _admin.ChangeQueuePolicyAsync(queue, QueuePolicyActions.ReadChange(JsonSerializer.SerializeToElement(change)), cancellationToken);

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
