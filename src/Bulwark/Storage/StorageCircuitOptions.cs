using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>Options of the storage circuit (DESIGN.md §3): how many consecutive persistence errors open it, and how long it stays open before a probe.</summary>
public sealed class StorageCircuitOptions
{
    /// <summary>Consecutive persistence errors that open the circuit (default 5).</summary>
    public int FailureThreshold { get; set; } = 5;

    /// <summary>How long the circuit stays open before one probe write is let through (default 10 s).</summary>
    public TimeSpan ResetTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws a <see cref="JobValidationException"/> naming the option to change.</summary>
    public StorageCircuitOptions Validated()
    {
        if (FailureThreshold < 1)
        {
            throw new JobValidationException("StorageCircuit:FailureThreshold", $"Bulwark:StorageCircuit:FailureThreshold must be at least 1 (got {FailureThreshold}).");
        }

        if (ResetTimeout <= TimeSpan.Zero)
        {
            throw new JobValidationException("StorageCircuit:ResetTimeout", $"Bulwark:StorageCircuit:ResetTimeout must be positive (got {ResetTimeout}); try 10s.");
        }

        return this;
    }
}
