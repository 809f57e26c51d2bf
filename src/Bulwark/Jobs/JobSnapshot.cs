namespace Bulwark.Jobs;

/// <summary>Everything known about one job at the moment it was read. The job row is the only truth; this is a copy of it.</summary>
public sealed record JobSnapshot
{
    /// <summary>Store-assigned, increasing.</summary>
    public required long Id { get; init; }
    /// <summary>The queue it waits in.</summary>
    public required string Queue { get; init; }
    /// <summary>The handler name.</summary>
    public required string Type { get; init; }
    /// <summary>The payload, as JSON text.</summary>
    public required string Payload { get; init; }
    /// <summary>Higher runs first.</summary>
    public int Priority { get; init; }
    /// <summary>The current state.</summary>
    public required JobState State { get; init; }
    /// <summary>When it may start (wall clock).</summary>
    public required DateTimeOffset RunAt { get; init; }
    /// <summary>When it was enqueued.</summary>
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>When its row last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>Attempts allowed in all.</summary>
    public int MaxAttempts { get; init; } = JobDefaults.MaxAttempts;
    /// <summary>Execution timeout of one attempt.</summary>
    public TimeSpan Timeout { get; init; } = JobDefaults.Timeout;
    /// <summary>Delay policy between attempts.</summary>
    public BackoffPolicy Backoff { get; init; } = BackoffPolicy.Default;
    /// <summary>Idempotency key, if any.</summary>
    public string? Key { get; init; }
    /// <summary>Ids of the jobs that must complete first.</summary>
    public IReadOnlyList<long> DependsOn { get; init; } = [];
    /// <summary>Lifetime limit: not completed by then, it goes to dead letter.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>Attempts charged so far.</summary>
    public int Attempt { get; init; }
    /// <summary>Rises with every lease; the fencing part of a <see cref="Storage.LeaseToken"/>.</summary>
    public long LeaseEpoch { get; init; }
    /// <summary>The worker id holding the current lease.</summary>
    public string? LeaseOwner { get; init; }
    /// <summary>When the current lease expires unless renewed (store clock).</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    /// <summary>0–100, reported by the handler.</summary>
    public int Progress { get; init; }
    /// <summary>JSON the handler saved; given back on retry.</summary>
    public string? Checkpoint { get; init; }
    /// <summary>Result JSON of a completed job.</summary>
    public string? Result { get; init; }
    /// <summary>One record per attempt that did not complete.</summary>
    public IReadOnlyList<JobError> Errors { get; init; } = [];
    /// <summary>W3C trace context of the producer.</summary>
    public string? TraceParent { get; init; }
    /// <summary>Why the job is in its terminal state (dead letter reason, cancel note), when it is.</summary>
    public string? Reason { get; init; }
    /// <summary>A user asked to cancel it while it runs; its worker is told at the next heartbeat.</summary>
    public bool CancelRequested { get; init; }
    /// <summary>When its current or last attempt started.</summary>
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>When it reached a terminal state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>How many times a handler started on it whose outcome was refused or lost (duplicate executions are counted, never hidden).</summary>
    public int LostLeases { get; init; }
}
