namespace Bulwark.Storage;

/// <summary>The state of a registered worker.</summary>
public enum WorkerState
{
    /// <summary>Leasing and running jobs.</summary>
    Active,
    /// <summary>Shutting down: not leasing, finishing what it has.</summary>
    Draining,
    /// <summary>Deregistered cleanly.</summary>
    Stopped,
    /// <summary>Silent past the dead-worker threshold; its jobs were reclaimed.</summary>
    Dead,
}
