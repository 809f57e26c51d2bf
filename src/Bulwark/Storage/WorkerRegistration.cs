namespace Bulwark.Storage;

/// <summary>A worker process as it describes itself to the store, at registration and at every heartbeat.</summary>
public sealed record WorkerRegistration
{
    /// <summary>Unique per process start.</summary>
    public required string Id { get; init; }
    /// <summary>Stable name chosen by the operator; a restart under the same name recovers the old process's jobs.</summary>
    public required string Name { get; init; }
    /// <summary>Host name.</summary>
    public required string Host { get; init; }
    /// <summary>Process id.</summary>
    public required int ProcessId { get; init; }
    /// <summary>Queues it serves.</summary>
    public required IReadOnlyList<string> Queues { get; init; }
    /// <summary>Slots.</summary>
    public required int Concurrency { get; init; }
    /// <summary>When it started (wall clock).</summary>
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>Active, draining or stopped.</summary>
    public WorkerState State { get; init; } = WorkerState.Active;
    /// <summary>Jobs running now.</summary>
    public int ActiveJobs { get; init; }
    /// <summary>Working set in bytes.</summary>
    public long MemoryBytes { get; init; }
}
