namespace Bulwark.Cli.Worker;

/// <summary>What <c>bulwark worker</c> was asked to run, after parsing.</summary>
internal sealed record WorkerHostSettings
{
    public required string StorePath { get; init; }
    // Null when the flag was not given: configuration (Bulwark:Worker:*) then decides, else the library's default.
    public IReadOnlyList<string>? Queues { get; init; }
    public int? Concurrency { get; init; }
    public int? LeaseAhead { get; init; }
    public IReadOnlyDictionary<string, int> Weights { get; init; } = new Dictionary<string, int>();
    public string? Name { get; init; }
    public TimeSpan? Lease { get; init; }
    public TimeSpan? Heartbeat { get; init; }
    public TimeSpan? ShutdownTimeout { get; init; }
    public TimeSpan? Poll { get; init; }
    public TimeSpan? DeadAfter { get; init; }
    public TimeSpan? AbandonGrace { get; init; }
    public long? MemoryLimitMegabytes { get; init; }

    /// <summary>Test seam (hidden <c>--clock-offset</c>): shifts this process's wall clock, as on a machine whose clock is wrong.</summary>
    public TimeSpan? ClockOffset { get; init; }

    /// <summary>Where to serve /health/live, /health/ready and /metrics (none when empty).</summary>
    public IReadOnlyList<string> HealthUrls { get; init; } = [];
}
