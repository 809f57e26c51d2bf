namespace Bulwark.Storage;

/// <summary>What one reclaim pass did.</summary>
/// <param name="Reclaimed">Jobs moved back to Ready (attempt charged, error category Crash).</param>
/// <param name="Poisoned">Jobs whose last attempt crashed, quarantined in dead letter as poison.</param>
/// <param name="Cancelled">Jobs whose cancellation had been requested, now Cancelled.</param>
/// <param name="DeadWorkers">Worker ids declared dead in this pass.</param>
public sealed record ReclaimResult(IReadOnlyList<long> Reclaimed, IReadOnlyList<long> Poisoned, IReadOnlyList<long> Cancelled, IReadOnlyList<string> DeadWorkers)
{
    /// <summary>Nothing to do.</summary>
    public static ReclaimResult None { get; } = new([], [], [], []);

    /// <summary>Jobs taken from their owners in all.</summary>
    public int Total => Reclaimed.Count + Poisoned.Count + Cancelled.Count;
}
