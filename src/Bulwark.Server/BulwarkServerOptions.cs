namespace Bulwark.Server;

/// <summary>Options of the Bulwark HTTP server, bound from <c>Bulwark:Server</c>.</summary>
public sealed class BulwarkServerOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Bulwark:Server";

    /// <summary>Keys that may read (GET). Compared in constant time; never logged.</summary>
    public IList<string> ReadKeys { get; } = [];

    /// <summary>Keys that may do everything.</summary>
    public IList<string> AdminKeys { get; } = [];

    /// <summary>
    /// An ASP.NET Core authorization policy (registered with <c>AddAuthorization</c>) whose users may do everything on the
    /// API and dashboard, as an alternative or an addition to <see cref="AdminKeys"/>. Null: none. Checked at start-up.
    /// </summary>
    public string? AdminPolicy { get; set; }

    /// <summary>A policy whose users may read (GET) the API and view the dashboard. Null: reading needs <see cref="AdminPolicy"/> (or a key).</summary>
    public string? ReadPolicy { get; set; }

    /// <summary>Queue depth (pending + scheduled + ready) above which enqueue is refused with 429, unless a queue sets its own.</summary>
    public long DefaultHardLimit { get; set; } = 1_000_000;

    /// <summary>Queue depth above which a warning is logged (and the depth alert fires), unless a queue sets its own.</summary>
    public long DefaultWarningDepth { get; set; } = 100_000;

    /// <summary>Per-queue limits (<c>Bulwark:Server:Queues:&lt;queue&gt;:HardLimit</c> and <c>WarningDepth</c>).</summary>
    public IDictionary<string, QueueLimitOptions> Queues { get; } = new Dictionary<string, QueueLimitOptions>(StringComparer.Ordinal);

    /// <summary>What <c>Retry-After</c> says when a queue is full.</summary>
    public TimeSpan FullQueueRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest request body accepted by <c>POST /jobs</c> (a batch of many payloads), in bytes.</summary>
    public long MaxRequestBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Workers silent for this long are declared dead by <c>POST /maintenance/reclaim-stalled</c>.</summary>
    public TimeSpan WorkerDeadAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often queue depth is read from the store for <c>bulwark_queue_depth</c> and the hard limits.</summary>
    public TimeSpan DepthSampleInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The hard limit of <paramref name="queue"/>.</summary>
    public long HardLimitFor(string queue) => Queues.TryGetValue(queue, out var q) && q.HardLimit is { } limit ? limit : DefaultHardLimit;

    /// <summary>The warning depth of <paramref name="queue"/>.</summary>
    public long WarningDepthFor(string queue) => Queues.TryGetValue(queue, out var q) && q.WarningDepth is { } depth ? depth : DefaultWarningDepth;

    /// <summary>True when any API key is configured.</summary>
    public bool HasKeys => ReadKeys.Count > 0 || AdminKeys.Count > 0;

    /// <summary>True when keys or a policy protect Bulwark's endpoints (otherwise they answer loopback callers only).</summary>
    public bool IsProtected => HasKeys || AdminPolicy is not null || ReadPolicy is not null;
}
