namespace Bulwark.Scheduling;

/// <summary>What a recurring job does about ticks that passed while no process ran the scheduler (the fleet was down).</summary>
public enum MisfirePolicy
{
    /// <summary>Missed ticks are skipped; the schedule carries on from the next tick to come.</summary>
    Skip,
    /// <summary>Missed ticks are folded into one run, enqueued at once; then the schedule carries on.</summary>
    RunOnce,
}
