using System.Text.Json;
using Bulwark.Cli.Commands;
using Bulwark.Client;
using Bulwark.Flows;
using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Server.Api;
using Bulwark.Maintenance;
using Bulwark.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Cli.Admin;

/// <summary>Admin actions straight on a store (the embedded SQLite file); enqueue goes through <see cref="JobClient"/> so its validation is the library's.</summary>
internal sealed class StoreAdminBackend : IAdminBackend
{
    private readonly IJobStore _store;
    private readonly IJobQuery _query;
    private readonly JobClient _client;
    private readonly TimeProvider _time;

    public StoreAdminBackend(IJobStore store, IJobQuery query, string describe, TimeProvider? time = null)
    {
        _store = store;
        _query = query;
        _time = time ?? TimeProvider.System;
        _client = new JobClient(store, query, time: _time);
        Describe = describe;
    }

    public string Describe { get; }

    public Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        _client.EnqueueManyAsync(jobs, cancellationToken);

    public Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken) => _client.GetAsync(jobId, cancellationToken);

    public Task<JobPage> ListJobsAsync(JobListQuery query, CancellationToken cancellationToken) => _client.ListAsync(query, cancellationToken);

    public Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken) => _client.CancelAsync(jobId, cancellationToken);

    public Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken) => _client.RetryAsync(jobId, cancellationToken);

    public Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken) => _client.GetQueuesAsync(cancellationToken);

    public Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken) => _store.RetryDeadLettersAsync(queue, cancellationToken);

    public Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken) => _store.ListCircuitsAsync(cancellationToken);

    public Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken) =>
        CircuitBreakerActions.OpenAsync(_store, type, NullLogger.Instance, cancellationToken);

    public Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken) =>
        CircuitBreakerActions.CloseAsync(_store, type, NullLogger.Instance, cancellationToken);

    public Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken) =>
        _store.SetQueuePausedAsync(queue, paused, cancellationToken);

    public Task<int> DeleteJobsAsync(string queue, JobState state, TimeSpan olderThan, CancellationToken cancellationToken) =>
        _store.DeleteJobsAsync(queue, state, _time.GetUtcNow() - olderThan, cancellationToken);

    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken) => _query.ListWorkersAsync(cancellationToken);

    public Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit, CancellationToken cancellationToken) =>
        _query.ListStalledAsync(limit, cancellationToken);

    public async Task<JsonElement?> ExplainAsync(long jobId, CancellationToken cancellationToken)
    {
        if (await _query.GetJobAsync(jobId, cancellationToken) is not { } job)
        {
            return null;
        }

        // Straight from the store: no breakers or storage circuit of a running process to consult.
        var explanation = await JobExplainer.ExplainAsync(job, _query, _time, EmptyServices.Instance, cancellationToken);
        return JsonSerializer.SerializeToElement(explanation, ApiShape);
    }

    public Task<ReclaimResult> ReclaimStalledAsync(CancellationToken cancellationToken) =>
        _store.ReclaimAsync(new MaintenanceOptions().WorkerDeadAfter, cancellationToken);

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

    public Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken) => Recurring().ListRecurringAsync(cancellationToken);

    public async Task<RecurringJob> SetRecurringAsync(RecurringJob job, CancellationToken cancellationToken)
    {
        var store = Recurring();
        // DefineAsync computes the first tick from now; an unchanged schedule keeps its stored next tick.
        await new RecurringScheduler(store, _time).DefineAsync(job, cancellationToken);
        return (await store.ListRecurringAsync(cancellationToken)).Single(r => r.Name == job.Name);
    }

    public Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken) => Recurring().RemoveRecurringAsync(name, cancellationToken);

    public async Task<QueueLimits> ChangeQueueLimitsAsync(string queue, QueueLimitChange change, CancellationToken cancellationToken)
    {
        var store = _store;
        var current = (await store.GetQueueLimitsAsync(cancellationToken)).GetValueOrDefault(queue) ?? QueueLimits.None;
        var limits = change.Clear
            ? QueueLimits.None
            : current with { RatePerSecond = change.Rate ?? current.RatePerSecond, MaxRunning = change.Concurrency ?? current.MaxRunning };
        await store.SetQueueLimitsAsync(queue, limits.Validate(), cancellationToken);
        return limits;
    }

    public Task<QueuePolicy> GetQueuePolicyAsync(string queue, CancellationToken cancellationToken) =>
        QueuePolicyActions.GetAsync(_store, queue, cancellationToken);

    public Task<QueuePolicy> ChangeQueuePolicyAsync(string queue, System.Text.Json.Nodes.JsonObject change, CancellationToken cancellationToken) =>
        QueuePolicyActions.ChangeAsync(_store, queue, QueuePolicyActions.ReadChange(JsonSerializer.SerializeToElement(change)), NullLogger.Instance, cancellationToken);

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    // Recurring jobs are part of the store contract: they pass through the same decorators as every other write.
    private IRecurringJobStore Recurring() => _store;
}
