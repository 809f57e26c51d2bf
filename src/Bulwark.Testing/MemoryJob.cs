using Bulwark.Jobs;

namespace Bulwark.Testing;

/// <summary>The mutable row of one job inside <see cref="InMemoryJobStore"/>; only touched under the store's lock.</summary>
internal sealed class MemoryJob
{
    public required long Id { get; init; }
    public required string Queue { get; init; }
    public required string Type { get; init; }
    public required string Payload { get; init; }
    public int Priority { get; init; }
    public JobState State { get; set; }
    public DateTimeOffset RunAt { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int MaxAttempts { get; init; }
    public TimeSpan Timeout { get; init; }
    public required BackoffPolicy Backoff { get; init; }
    public string? Key { get; init; }
    public required IReadOnlyList<long> DependsOn { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public int Attempt { get; set; }
    public long LeaseEpoch { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }
    public int Progress { get; set; }
    public string? Checkpoint { get; set; }
    public string? Result { get; set; }
    public List<JobError> Errors { get; } = [];
    public string? TraceParent { get; init; }
    public string? Reason { get; set; }
    public bool CancelRequested { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public int LostLeases { get; set; }

    public JobSnapshot ToSnapshot() => new()
    {
        Id = Id,
        Queue = Queue,
        Type = Type,
        Payload = Payload,
        Priority = Priority,
        State = State,
        RunAt = RunAt,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
        MaxAttempts = MaxAttempts,
        Timeout = Timeout,
        Backoff = Backoff,
        Key = Key,
        DependsOn = DependsOn.ToArray(),
        ExpiresAt = ExpiresAt,
        Attempt = Attempt,
        LeaseEpoch = LeaseEpoch,
        LeaseOwner = LeaseOwner,
        LeaseExpiresAt = LeaseExpiresAt,
        Progress = Progress,
        Checkpoint = Checkpoint,
        Result = Result,
        Errors = Errors.ToArray(),
        TraceParent = TraceParent,
        Reason = Reason,
        CancelRequested = CancelRequested,
        StartedAt = StartedAt,
        FinishedAt = FinishedAt,
        LostLeases = LostLeases,
    };
}
