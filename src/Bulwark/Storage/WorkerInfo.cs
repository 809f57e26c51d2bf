namespace Bulwark.Storage;

/// <summary>A registered worker as the store last heard of it.</summary>
public sealed record WorkerInfo
{
    /// <summary>The registration as last reported.</summary>
    public required WorkerRegistration Registration { get; init; }
    /// <summary>Last heartbeat (store clock).</summary>
    public required DateTimeOffset HeartbeatAt { get; init; }
    /// <summary>State, including Dead when declared so by a reclaim pass.</summary>
    public required WorkerState State { get; init; }
}
