namespace Bulwark.Storage;

/// <summary>How long finished jobs are kept before a purge deletes them.</summary>
public sealed record RetentionPolicy
{
    /// <summary>Defaults: completed 24 h; failed, dead letter and cancelled 7 days.</summary>
    public static RetentionPolicy Default { get; } = new();

    /// <summary>Keep completed jobs this long.</summary>
    public TimeSpan Completed { get; init; } = TimeSpan.FromHours(24);
    /// <summary>Keep failed jobs this long.</summary>
    public TimeSpan Failed { get; init; } = TimeSpan.FromDays(7);
    /// <summary>Keep dead letters this long.</summary>
    public TimeSpan DeadLetter { get; init; } = TimeSpan.FromDays(7);
    /// <summary>Keep cancelled jobs this long.</summary>
    public TimeSpan Cancelled { get; init; } = TimeSpan.FromDays(7);
    /// <summary>Most rows one purge call deletes, so that a purge never holds the writer for long.</summary>
    public int BatchSize { get; init; } = 5000;

    /// <summary>
    /// Per-queue overrides: a queue named here keeps its finished jobs as its own policy says (that policy's
    /// <see cref="BatchSize"/> and <see cref="Queues"/> are ignored); every other queue follows this policy.
    /// </summary>
    public IReadOnlyDictionary<string, RetentionPolicy> Queues { get; init; } = new Dictionary<string, RetentionPolicy>();

    /// <summary>A policy keeping every finished state (completed, failed, dead letter, cancelled) for <paramref name="keep"/>.</summary>
    public static RetentionPolicy Keeping(TimeSpan keep) => new() { Completed = keep, Failed = keep, DeadLetter = keep, Cancelled = keep };

    /// <summary>The policy that applies to <paramref name="queue"/>.</summary>
    public RetentionPolicy For(string queue) => Queues.TryGetValue(queue, out var own) ? own : this;
}
