namespace Bulwark.Jobs;

/// <summary>Defaults of the job model (DESIGN.md §2).</summary>
public static class JobDefaults
{
    /// <summary>Attempt 1 and two retries.</summary>
    public const int MaxAttempts = 3;

    /// <summary>Largest payload accepted by default: 1 MiB of UTF-8 JSON.</summary>
    public const int MaxPayloadBytes = 1024 * 1024;

    /// <summary>Execution timeout of one attempt.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(30);
}
