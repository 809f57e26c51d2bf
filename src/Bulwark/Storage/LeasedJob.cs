using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>A job handed to a worker, with everything the worker needs to run it and fence its writes.</summary>
public sealed record LeasedJob
{
    /// <summary>The fencing token of this lease.</summary>
    public required LeaseToken Token { get; init; }
    /// <summary>Job id (same as <c>Token.JobId</c>).</summary>
    public long Id => Token.JobId;
    /// <summary>Queue.</summary>
    public required string Queue { get; init; }
    /// <summary>Handler name.</summary>
    public required string Type { get; init; }
    /// <summary>Payload JSON.</summary>
    public required string Payload { get; init; }
    /// <summary>Priority.</summary>
    public int Priority { get; init; }
    /// <summary>This attempt's number, already charged (1 for the first run).</summary>
    public required int Attempt { get; init; }
    /// <summary>Attempts allowed in all.</summary>
    public required int MaxAttempts { get; init; }
    /// <summary>Execution timeout.</summary>
    public required TimeSpan Timeout { get; init; }
    /// <summary>Delay policy between attempts.</summary>
    public required BackoffPolicy Backoff { get; init; }
    /// <summary>Last saved checkpoint, given back on retry.</summary>
    public string? Checkpoint { get; init; }
    /// <summary>Last reported progress.</summary>
    public int Progress { get; init; }
    /// <summary>W3C trace context of the producer.</summary>
    public string? TraceParent { get; init; }
    /// <summary>When it was enqueued.</summary>
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>When it became eligible to run (for wait-time metrics).</summary>
    public required DateTimeOffset RunAt { get; init; }
    /// <summary>When this lease expires unless renewed (store clock).</summary>
    public required DateTimeOffset LeaseExpiresAt { get; init; }
    /// <summary>Lifetime limit.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>
    /// How many earlier attempts were lost with their worker (reclaimed from a dead owner or an expired lease): the
    /// job's crash history, kept by the store so a worker can tell a suspect without reading the job back.
    /// </summary>
    public int LostLeases { get; init; }
}
