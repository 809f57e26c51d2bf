namespace Bulwark.Scheduling;

/// <summary>
/// Recurring job definitions kept by a store, beside <see cref="Storage.IJobStore"/> (the in-memory, SQLite and
/// PostgreSQL stores implement both). Times are the store's clock, like every other store time.
/// </summary>
public interface IRecurringJobStore
{
    /// <summary>
    /// Creates or replaces a definition (validated first). When the cron expression and time zone are unchanged, the stored
    /// next tick is kept (so that a restart neither loses nor repeats ticks); otherwise <c>job.NextTick</c> is taken.
    /// </summary>
    Task UpsertRecurringAsync(RecurringJob job, CancellationToken cancellationToken = default);

    /// <summary>Removes a definition. Jobs it already enqueued stay. Returns false when there was none.</summary>
    Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every definition, by name.</summary>
    Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken = default);

    /// <summary>Claims one tick atomically (see <see cref="RecurringTick"/>): exactly one of concurrent claims on a tick wins.</summary>
    Task<TickClaim> ClaimRecurringTickAsync(RecurringTick tick, CancellationToken cancellationToken = default);
}
