using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Client;

/// <summary>
/// Enqueues and looks up jobs: what application code depends on (inject <c>IJobClient</c>; <see cref="JobClient"/> is the
/// implementation <c>AddBulwark</c> registers). In tests, <c>Bulwark.Testing.JobHarness</c> gives a real client over an
/// in-memory store and asserts on what was enqueued.
/// </summary>
public interface IJobClient
{
    /// <summary>
    /// Enqueues one job for <paramref name="payload"/>: the job type and queue come from the handler registered for
    /// <typeparamref name="TPayload"/> (<c>AddHandler&lt;THandler&gt;()</c> with <see cref="Workers.JobTypeAttribute"/>), or
    /// from a <see cref="Workers.JobTypeAttribute"/> on <typeparamref name="TPayload"/>. Throws <see cref="InvalidOperationException"/>
    /// saying what to add when neither names one. Returns the job's id (the existing job's id when its key is live).
    /// </summary>
    Task<long> EnqueueAsync<TPayload>(TPayload payload, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Enqueues one job for <paramref name="payload"/> (type and queue as for <see cref="EnqueueAsync{TPayload}(TPayload, Action{EnqueueOptions}?, CancellationToken)"/>)
    /// inside <paramref name="transaction"/>, an open transaction on the store's own database: the job exists if and only
    /// if the transaction commits. Needs a store that can join a transaction (PostgreSQL, or SQLite with the transaction
    /// on the store's file); otherwise throws <see cref="InvalidOperationException"/> saying so. Workers are woken at the
    /// commit by PostgreSQL's <c>NOTIFY</c>; on SQLite when the store is told of it (<c>ITransactionalEnqueue.Committed</c>,
    /// which EF Core's <c>UseBulwark()</c> calls), else at their next poll.
    /// </summary>
    Task<long> EnqueueAsync<TPayload>(System.Data.Common.DbTransaction transaction, TPayload payload, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default);

    /// <summary>Enqueues one job of <paramref name="type"/> on <paramref name="queue"/> inside <paramref name="transaction"/> (see the overload above).</summary>
    Task<long> EnqueueAsync<TPayload>(System.Data.Common.DbTransaction transaction, string queue, string type, TPayload payload, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default);

    /// <summary>Enqueues one job of <paramref name="type"/> on <paramref name="queue"/>, its payload serialized to JSON. Returns its id.</summary>
    Task<long> EnqueueAsync<TPayload>(string queue, string type, TPayload payload, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default);

    /// <summary>Enqueues one job whose payload is already JSON text.</summary>
    Task<EnqueueResult> EnqueueJsonAsync(string queue, string type, string payloadJson, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default);

    /// <summary>Enqueues a batch atomically (all or none); build its jobs with <see cref="Build"/>.</summary>
    Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default);

    /// <summary>Builds a validated job from a JSON payload and options, for <see cref="EnqueueManyAsync"/>.</summary>
    NewJob Build(string queue, string type, string payloadJson, Action<EnqueueOptions>? configure = null);

    /// <summary>One job, or null.</summary>
    Task<JobSnapshot?> GetAsync(long jobId, CancellationToken cancellationToken = default);

    /// <summary>A page of jobs, newest first.</summary>
    Task<JobPage> ListAsync(JobListQuery query, CancellationToken cancellationToken = default);

    /// <summary>Cancels a job (at once if waiting; at the next heartbeat if running).</summary>
    Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Retries a failed, dead-lettered or cancelled job: to Ready, or to Pending while a job it depends on is live again.
    /// Throws <see cref="JobConflictException"/> (nothing changed) naming the job in the way: a dependency that ended
    /// failed, dead_letter or cancelled, or a live job that holds the same idempotency key.
    /// </summary>
    Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken = default);
}
