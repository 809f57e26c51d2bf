using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Server.Api;

/// <summary>A job as the API shows it.</summary>
internal sealed record JobView(
    long Id, string Queue, string Type, string State, int Priority, JsonElement? Payload,
    DateTimeOffset RunAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    int Attempt, int MaxAttempts, string Timeout, string Backoff, string? Key, IReadOnlyList<long> DependsOn,
    DateTimeOffset? ExpiresAt, long LeaseEpoch, string? LeaseOwner, DateTimeOffset? LeaseExpiresAt,
    int Progress, JsonElement? Checkpoint, JsonElement? Result, IReadOnlyList<ErrorView>? Errors, string? TraceParent,
    string? Reason, bool CancelRequested, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, int LostLeases)
{
    /// <summary>The full job; <paramref name="summary"/> leaves out payload, checkpoint, result and errors (lists).</summary>
    public static JobView From(JobSnapshot job, bool summary = false) => new(
        job.Id, job.Queue, job.Type, job.State.ToName(), job.Priority, summary ? null : ApiJson.Raw(job.Payload),
        job.RunAt, job.CreatedAt, job.UpdatedAt,
        job.Attempt, job.MaxAttempts, DurationText.Format(job.Timeout), job.Backoff.ToString(), job.Key, job.DependsOn,
        job.ExpiresAt, job.LeaseEpoch, job.LeaseOwner, job.LeaseExpiresAt,
        job.Progress, summary ? null : ApiJson.Raw(job.Checkpoint), summary ? null : ApiJson.Raw(job.Result),
        summary ? null : job.Errors.Select(ErrorView.From).ToArray(), job.TraceParent,
        job.Reason, job.CancelRequested, job.StartedAt, job.FinishedAt, job.LostLeases);
}

/// <summary>One attempt's error.</summary>
internal sealed record ErrorView(int Attempt, string? WorkerId, DateTimeOffset? StartedAt, DateTimeOffset EndedAt, string Category, string Message, string? StackTrace, string? ExceptionType)
{
    public static ErrorView From(JobError e) =>
        new(e.Attempt, e.WorkerId, e.StartedAt, e.EndedAt, e.Category.ToString().ToLowerInvariant(), e.Message, e.StackTrace, e.ExceptionType);
}

/// <summary>
/// A queue's counts, limits and policy (rate and concurrency limits, and the policy, are left out when unset; hard limit
/// and warning depth when there are no server settings to take them from, as in the CLI on a store file).
/// </summary>
internal sealed record QueueView(
    string Name, bool Paused, IReadOnlyDictionary<string, long> Counts, long Depth, long? HardLimit, long? WarningDepth, DateTimeOffset? OldestReadyAt,
    double? RateLimit = null, int? ConcurrencyLimit = null, object? Policy = null)
{
    /// <summary>Jobs waiting to run (pending, scheduled, ready): what the hard limit counts.</summary>
    public static long DepthOf(QueueStats q) => q[JobState.Pending] + q[JobState.Scheduled] + q[JobState.Ready];

    public static QueueView From(QueueStats q, BulwarkServerOptions? options, Scheduling.QueueLimits? limits = null, QueuePolicy? policy = null) => new(
        q.Queue, q.Paused, JobStates.All.ToDictionary(s => s.ToName(), s => q[s]), DepthOf(q),
        options?.HardLimitFor(q.Queue), options?.WarningDepthFor(q.Queue), q.OldestReadyAt, limits?.RatePerSecond, limits?.MaxRunning,
        policy is null || policy.IsNone ? null : PolicyView.From(policy));
}

/// <summary>A queue's stored policy inside a queue's view (durations as 30s).</summary>
internal sealed record PolicyView(int? MaxAttempts, string? Backoff, string? Timeout, string? Retention)
{
    public static PolicyView From(QueuePolicy p) => new(
        p.MaxAttempts, p.Backoff?.ToString(), p.Timeout is { } t ? DurationText.Format(t) : null, p.Retention is { } r ? DurationText.Format(r) : null);
}

/// <summary>A worker as the API shows it.</summary>
internal sealed record WorkerView(
    string Id, string Name, string Host, int ProcessId, IReadOnlyList<string> Queues, int Concurrency, int ActiveJobs,
    long MemoryBytes, string State, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt)
{
    public static WorkerView From(WorkerInfo w) => new(
        w.Registration.Id, w.Registration.Name, w.Registration.Host, w.Registration.ProcessId, w.Registration.Queues,
        w.Registration.Concurrency, w.Registration.ActiveJobs, w.Registration.MemoryBytes, w.State.ToString().ToLowerInvariant(),
        w.Registration.StartedAt, w.HeartbeatAt);
}
