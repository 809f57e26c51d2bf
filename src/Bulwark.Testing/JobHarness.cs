using System.Reflection;
using System.Text.Json;
using Bulwark.Client;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bulwark.Testing;

/// <summary>
/// Unit tests for handlers and for code that enqueues: Bulwark configured as in your app (<c>AddBulwark</c> with your
/// handlers) over an <see cref="InMemoryJobStore"/>, with no worker running.
/// <see cref="RunAsync{TPayload}(IJobHandler{TPayload}, TPayload, Action{JobRunOptions}?, CancellationToken)"/> enqueues one
/// job, leases it and runs one attempt of your handler with a real <see cref="JobContext"/> (progress and checkpoints are
/// fenced writes to the store), then records the outcome as a worker would; <see cref="EnqueuedAsync{TPayload}"/> reads
/// back what your code enqueued through <see cref="Client"/>.
/// </summary>
public sealed class JobHarness : IAsyncDisposable
{
    private const string WorkerId = "job-harness";
    private readonly ServiceProvider _services;
    private readonly JobClient _client;
    private readonly JsonSerializerOptions _json;
    private readonly TimeProvider _time;

    /// <summary>Creates the harness; <paramref name="configure"/> adds handlers as in the app (the store is set here).</summary>
    public JobHarness(Action<BulwarkBuilder>? configure = null, Action<IServiceCollection>? services = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        var collection = new ServiceCollection();
        collection.AddLogging();
        if (time is not null)
        {
            collection.AddSingleton(time);
        }

        Store = new InMemoryJobStore(time);
        services?.Invoke(collection);
        collection.AddBulwark(b =>
        {
            configure?.Invoke(b);
            b.UseStore(_ => Store);
        });
        _services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        _client = _services.GetRequiredService<JobClient>();
        _json = _services.GetRequiredService<IOptions<JobClientOptions>>().Value.SerializerOptions;
    }

    /// <summary>The store every job of this harness is in.</summary>
    public InMemoryJobStore Store { get; }

    /// <summary>The real client over <see cref="Store"/>, resolving payload types from the handlers registered here.</summary>
    public IJobClient Client => _client;

    /// <summary>The harness's services (your handlers' dependencies, registered through the constructor).</summary>
    public IServiceProvider Services => _services;

    /// <summary>
    /// Runs one attempt of <paramref name="handler"/> on <paramref name="payload"/>: the payload is enqueued (validated and
    /// serialized as by the client) under the job type and queue declared with <see cref="JobTypeAttribute"/> on the handler
    /// or payload type (else <c>test.job</c> on <c>default</c>), leased, read back from JSON, and handed to the handler
    /// with a real <see cref="JobContext"/>. Cancelling <paramref name="cancellationToken"/> while the handler runs is a
    /// cancellation request, as <c>jobs cancel</c> would be. The outcome is recorded in the store as a worker would.
    /// </summary>
    public async Task<JobRunResult> RunAsync<TPayload>(IJobHandler<TPayload> handler, TPayload payload, Action<JobRunOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var options = new JobRunOptions();
        configure?.Invoke(options);
        var declared = handler.GetType().GetCustomAttribute<JobTypeAttribute>() ?? typeof(TPayload).GetCustomAttribute<JobTypeAttribute>();
        var type = options.TypeValue ?? declared?.Type ?? "test.job";
        var queue = options.QueueValue ?? declared?.Queue ?? "default";
        var id = await _client.EnqueueAsync(queue, type, payload, options.EnqueueValue, cancellationToken);
        var leased = await LeaseAsync(id, queue, cancellationToken);
        if (options.CheckpointValue is not null || options.ProgressValue is not null)
        {
            // A checkpoint saved by an earlier attempt, as a retry finds it: written through the lease, then given to the context.
            await Store.SaveProgressAsync(leased.Token, options.ProgressValue, options.CheckpointValue, cancellationToken);
            leased = leased with { Checkpoint = options.CheckpointValue ?? leased.Checkpoint, Progress = options.ProgressValue ?? leased.Progress };
        }

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var context = new JobContext(leased, Store, WorkerId, attempt.Token, _json);
        var started = _time.GetUtcNow();
        JobOutcome outcome;
        Exception? failure = null;
        string? result = null;
        try
        {
            var value = await handler.HandleAsync(ReadPayload<TPayload>(leased), context);
            result = value is null ? null : JsonSerializer.Serialize(value, value.GetType(), _json);
            outcome = JobOutcome.Complete(leased.Token, result);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            failure = ex;
            // The test's token plays a cancellation request; everything else is classified as the worker classifies it.
            var category = ex is OperationCanceledException && cancellationToken.IsCancellationRequested ? FailureCategory.Cancelled : FailureClassifier.Classify(ex);
            var error = new JobError(leased.Attempt, WorkerId, started, _time.GetUtcNow(), category, ex.Message, ex.StackTrace, ex.GetType().FullName);
            outcome = new OutcomePolicy(retrySystemErrors: true, () => 0.5).Decide(leased, error);
        }

        var fence = (await Store.FinishAsync([outcome], CancellationToken.None))[0];
        var job = await Store.GetJobAsync(id, CancellationToken.None)
            ?? throw new InvalidOperationException($"Job {id} vanished from the harness's store.");
        return new JobRunResult(job, outcome.Kind, fence, failure, _json);
    }

    /// <summary>Every job enqueued so far, oldest first (optionally only those of <paramref name="type"/>).</summary>
    public async Task<IReadOnlyList<JobSnapshot>> EnqueuedAsync(string? type = null, CancellationToken cancellationToken = default)
    {
        var jobs = new List<JobSnapshot>();
        long? cursor = null;
        do
        {
            var page = await Store.ListJobsAsync(new JobListQuery(BeforeId: cursor, Limit: JobListQuery.MaxLimit), cancellationToken);
            jobs.AddRange(page.Items.Where(j => type is null || j.Type == type));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        jobs.Reverse();
        return jobs;
    }

    /// <summary>
    /// The jobs enqueued for payloads of <typeparamref name="TPayload"/> (the job type <c>EnqueueAsync(payload)</c> uses
    /// for it), oldest first, each with its payload read back from JSON.
    /// </summary>
    public async Task<IReadOnlyList<EnqueuedJob<TPayload>>> EnqueuedAsync<TPayload>(CancellationToken cancellationToken = default)
    {
        var (type, _) = _client.JobTypeOf(typeof(TPayload));
        var jobs = await EnqueuedAsync(type, cancellationToken);
        return jobs.Select(j => new EnqueuedJob<TPayload>(j, JsonSerializer.Deserialize<TPayload>(j.Payload, _json)!)).ToArray();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Store.DisposeAsync();
    }

    // Read back from JSON as a worker reads it, so a payload that does not round-trip fails here too (permanently, as there).
    private TPayload ReadPayload<TPayload>(LeasedJob job)
    {
        try
        {
            return JsonSerializer.Deserialize<TPayload>(job.Payload, _json)
                ?? throw new PermanentJobException($"The payload of a '{job.Type}' job is null; it must be a JSON object for {typeof(TPayload).Name}.");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            throw new PermanentJobException($"The payload of a '{job.Type}' job cannot be read as {typeof(TPayload).Name}: {ex.Message}", ex);
        }
    }

    private async Task<LeasedJob> LeaseAsync(long id, string queue, CancellationToken cancellationToken)
    {
        var job = await Store.GetJobAsync(id, cancellationToken);
        if (job is null || job.State != JobState.Ready)
        {
            throw new InvalidOperationException(
                $"Job {id} is {job?.State.ToName() ?? "missing"}, not ready, so the harness cannot run it now: a delay, a run-at time, dependencies or a live idempotency key keep it waiting. Run it without those options.");
        }

        // Only this job runs: jobs the code under test put on the same queue earlier (leased first by priority and age)
        // are given straight back, unchanged but for a Shutdown record, as a stopping worker gives jobs back.
        var leased = await Store.LeaseAsync(new LeaseRequest(WorkerId, [queue], 10_000, TimeSpan.FromMinutes(5)), cancellationToken);
        var others = leased.Where(j => j.Id != id).Select(j => JobOutcome.Release(j.Token, new JobError(j.Attempt, WorkerId, null, _time.GetUtcNow(), FailureCategory.Shutdown, "given back by the job harness"))).ToArray();
        if (others.Length > 0)
        {
            await Store.FinishAsync(others, cancellationToken);
        }

        return leased.FirstOrDefault(j => j.Id == id)
            ?? throw new InvalidOperationException($"Job {id} could not be leased from queue '{queue}' (is the queue paused?).");
    }
}
