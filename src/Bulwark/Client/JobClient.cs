using System.Data.Common;
using System.Diagnostics;
using System.Text.Json;
using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;

namespace Bulwark.Client;

/// <summary>
/// What applications use to enqueue and look up jobs. Validates every job before it reaches the store, so a
/// refused job stores nothing; returns only after the store has made the job durable.
/// </summary>
public sealed class JobClient : IJobClient
{
    // One source for every client: an ActivitySource is a handle that listeners subscribe to, kept for the process.
    private static readonly ActivitySource Producer = new(Telemetry.ActivitySourceName);

    private readonly IJobStore _store;
    private readonly IJobQuery _query;
    private readonly JobClientOptions _options;
    private readonly TimeProvider _time;
    private readonly JobSignal? _signal;
    private readonly BulwarkMetrics? _metrics;
    private readonly JobTypeMap _types;
    private readonly ITransactionalEnqueue? _transactional;

    /// <summary>Creates a client over a store. <c>EnqueueAsync(payload)</c> then knows the job types declared on payload types.</summary>
    public JobClient(IJobStore store, IJobQuery query, JobClientOptions? options = null, TimeProvider? time = null, JobSignal? signal = null, BulwarkMetrics? metrics = null)
        : this(store, query, options, time, signal, metrics, JobTypeMap.Empty)
    {
    }

    internal JobClient(IJobStore store, IJobQuery query, JobClientOptions? options, TimeProvider? time, JobSignal? signal, BulwarkMetrics? metrics, JobTypeMap types, ITransactionalEnqueue? transactional = null)
    {
        _types = types;
        _transactional = transactional;
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _query = query ?? throw new ArgumentNullException(nameof(query));
        _options = options ?? new JobClientOptions();
        _time = time ?? TimeProvider.System;
        _signal = signal;
        _metrics = metrics;
    }

    /// <inheritdoc/>
    public Task<long> EnqueueAsync<TPayload>(TPayload payload, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var (type, queue) = JobTypeOf(typeof(TPayload));
        return EnqueueAsync(queue, type, payload, configure, cancellationToken);
    }

    /// <summary>The job type and queue <c>EnqueueAsync(payload)</c> uses for payloads of <paramref name="payloadType"/>; throws saying what to add when none is known.</summary>
    public (string Type, string Queue) JobTypeOf(Type payloadType)
    {
        ArgumentNullException.ThrowIfNull(payloadType);
        return _types.Resolve(payloadType);
    }

    /// <summary>Enqueues one job with a payload object serialized to JSON. Returns its id (the existing job's id when its key is live).</summary>
    public async Task<long> EnqueueAsync<TPayload>(string queue, string type, TPayload payload, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var results = await EnqueueManyAsync([Build(queue, type, Serialize(payload), configure)], cancellationToken);
        return results[0].Id;
    }

    /// <summary>Enqueues one job whose payload is already JSON text.</summary>
    public async Task<EnqueueResult> EnqueueJsonAsync(string queue, string type, string payloadJson, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var results = await EnqueueManyAsync([Build(queue, type, payloadJson, configure)], cancellationToken);
        return results[0];
    }

    /// <inheritdoc/>
    public Task<long> EnqueueAsync<TPayload>(DbTransaction transaction, TPayload payload, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var (type, queue) = JobTypeOf(typeof(TPayload));
        return EnqueueAsync(transaction, queue, type, payload, configure, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<long> EnqueueAsync<TPayload>(DbTransaction transaction, string queue, string type, TPayload payload, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var store = _transactional ?? throw new InvalidOperationException(
            "This store cannot join your transaction: transactional enqueue needs the PostgreSQL store (UsePostgres) on the same database as your data, "
            + "or the SQLite store (UseSqlite) with your transaction on its file. Otherwise enqueue after your commit with EnqueueAsync(payload).");
        var jobs = Prepare([Build(queue, type, Serialize(payload), configure)], out var activity);
        using (activity)
        {
            var results = await store.EnqueueAsync(transaction, jobs, cancellationToken);
            activity?.SetTag("messaging.message.id", results[0].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // Counted when written, as the business change is: a rollback is not subtracted. Workers are woken at the
            // commit, not here: PostgreSQL's NOTIFY is delivered only then; SQLite's store wakes them when told the
            // transaction committed (ITransactionalEnqueue.Committed, EF Core's UseBulwark()), else at their poll.
            if (!results[0].Deduplicated)
            {
                _metrics?.JobsEnqueued(queue, 1);
            }

            return results[0].Id;
        }
    }

    /// <summary>
    /// Enqueues a batch atomically: all or none. Each job is validated first; one bad job refuses the batch. A producer span
    /// (<c>send {queue}</c>, OpenTelemetry messaging conventions) covers the store's write, and each job's trace continues from it.
    /// </summary>
    public async Task<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        jobs = Prepare(jobs, out var producer);
        using var activity = producer;
        var results = await _store.EnqueueAsync(jobs, cancellationToken);
        if (results.Count == 1)
        {
            activity?.SetTag("messaging.message.id", results[0].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var created = results.Count(r => !r.Deduplicated);
        if (created > 0)
        {
            foreach (var queue in jobs.Select(j => j.Queue).Distinct(StringComparer.Ordinal))
            {
                _metrics?.JobsEnqueued(queue, jobs.Count(j => j.Queue == queue));
                _signal?.Notify(queue);
            }
        }

        return results;
    }

    /// <summary>
    /// Validates a batch and opens its producer span (<c>send {queue}</c>, OpenTelemetry messaging conventions); each job
    /// without a trace parent gets the current one (the span's, when something listens), so the job's span continues it.
    /// </summary>
    private IReadOnlyList<NewJob> Prepare(IReadOnlyList<NewJob> jobs, out Activity? activity)
    {
        if (_options.Queues.Count > 0)
        {
            // The configured defaults (Bulwark:Queues) fill what a job left unset; the store's policy still outranks them.
            jobs = jobs.Select(j => j is not null && _options.Queues.TryGetValue(j.Queue, out var configured) ? j.WithQueuePolicy(configured) : j!).ToArray();
        }

        JobValidator.ValidateBatch(jobs, _options.MaxPayloadBytes);
        var queues = jobs.Select(j => j.Queue).Distinct(StringComparer.Ordinal).ToArray();
        var destination = queues.Length == 1 ? queues[0] : null;
        activity = Producer.StartActivity(destination is null ? "send" : $"send {destination}", ActivityKind.Producer);
        Telemetry.TagMessaging(activity, "send", destination, jobId: null, batchSize: jobs.Count > 1 ? jobs.Count : null);
        var traceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;
        return traceParent is null
            ? jobs
            : jobs.Select(j => j.TraceParent is null ? JobValidator.WithTraceParent(j, traceParent, _options.MaxPayloadBytes) : j).ToArray();
    }

    /// <summary>Builds a validated <see cref="NewJob"/> from a JSON payload and options (for batches).</summary>
    public NewJob Build(string queue, string type, string payloadJson, Action<EnqueueOptions>? configure = null)
    {
        var o = new EnqueueOptions();
        configure?.Invoke(o);
        var now = _time.GetUtcNow();
        DateTimeOffset? runAt = o.RunAtValue ?? (o.DelayValue is { } delay && delay > TimeSpan.Zero ? now + delay : null);
        DateTimeOffset? expiresAt = o.ExpiresAtValue ?? (o.LifetimeValue is { } life ? now + life : null);
        var job = new NewJob
        {
            Queue = queue,
            Type = type,
            Payload = payloadJson,
            Priority = o.PriorityValue,
            RunAt = runAt,
            Key = o.KeyValue,
            DependsOn = o.DependsOnValue.ToArray(),
            ExpiresAt = expiresAt,
        };
        // Only what the caller set becomes the job's own; the rest is left to the queue's policy.
        if (o.MaxAttemptsValue is { } maxAttempts) { job = job with { MaxAttempts = maxAttempts }; }
        if (o.TimeoutValue is { } timeout) { job = job with { Timeout = timeout }; }
        if (o.BackoffValue is { } backoff) { job = job with { Backoff = backoff }; }
        return JobValidator.Validate(job, _options.MaxPayloadBytes);
    }

    /// <summary>Serializes a payload object with the client's serializer options.</summary>
    public string Serialize<TPayload>(TPayload payload) => JsonSerializer.Serialize(payload, _options.SerializerOptions);

    /// <summary>One job, or null.</summary>
    public Task<JobSnapshot?> GetAsync(long jobId, CancellationToken cancellationToken = default) => _query.GetJobAsync(jobId, cancellationToken);

    /// <summary>A page of jobs, newest first.</summary>
    public Task<JobPage> ListAsync(JobListQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > JobListQuery.MaxLimit)
        {
            throw new JobValidationException("limit", $"The page size must be between 1 and {JobListQuery.MaxLimit} (got {query.Limit}).");
        }

        if (query.BeforeId is <= 0)
        {
            throw new JobValidationException("cursor", $"The cursor must be a positive job id (got {query.BeforeId}).");
        }

        if (query.Queue is not null)
        {
            JobValidator.ValidateQueue(query.Queue);
        }

        return _query.ListJobsAsync(query, cancellationToken);
    }

    /// <summary>Counts per queue and state.</summary>
    public Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken = default) => _query.GetQueuesAsync(cancellationToken);

    /// <summary>Cancels a job (at once if waiting; at the next heartbeat if running).</summary>
    public Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default) => _store.CancelAsync(jobId, cancellationToken);

    /// <inheritdoc />
    public async Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken = default)
    {
        var result = await _store.RetryAsync(jobId, cancellationToken);
        if (result == AdminResult.Ok)
        {
            var job = await _query.GetJobAsync(jobId, cancellationToken);
            if (job is not null)
            {
                _signal?.Notify(job.Queue);
            }
        }

        return result;
    }
}
