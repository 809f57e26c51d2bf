using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>A queue's counts per state.</summary>
public sealed record QueueStats
{
    /// <summary>Queue name.</summary>
    public required string Queue { get; init; }
    /// <summary>Jobs per state; every state is present (0 when none).</summary>
    public required IReadOnlyDictionary<JobState, long> Counts { get; init; }
    /// <summary>True when paused.</summary>
    public bool Paused { get; init; }
    /// <summary><c>run_at</c> of the oldest Ready job, for the age-of-oldest metric.</summary>
    public DateTimeOffset? OldestReadyAt { get; init; }

    /// <summary>Count in one state.</summary>
    public long this[JobState state] => Counts.TryGetValue(state, out var n) ? n : 0;
}
