using Bulwark.Client;
using Bulwark.Jobs;
using Bulwark.Storage;

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

    public Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken) =>
        _store.SetQueuePausedAsync(queue, paused, cancellationToken);

    public Task<int> DeleteJobsAsync(string queue, JobState state, TimeSpan olderThan, CancellationToken cancellationToken) =>
        _store.DeleteJobsAsync(queue, state, _time.GetUtcNow() - olderThan, cancellationToken);

    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken) => _query.ListWorkersAsync(cancellationToken);

    public Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit, CancellationToken cancellationToken) =>
        _query.ListStalledAsync(limit, cancellationToken);

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
