namespace Bulwark.Server;

/// <summary>One queue's backpressure limits.</summary>
public sealed class QueueLimitOptions
{
    /// <summary>Depth above which enqueue is refused with 429 and <c>Retry-After</c>.</summary>
    public long? HardLimit { get; set; }

    /// <summary>Depth above which a warning is logged.</summary>
    public long? WarningDepth { get; set; }
}
