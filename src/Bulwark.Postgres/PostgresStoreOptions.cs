using Bulwark.Workers;
using Microsoft.Extensions.Logging;

namespace Bulwark.Postgres;

/// <summary>Options of <see cref="PostgresJobStore"/>.</summary>
public sealed record PostgresStoreOptions
{
    /// <summary>An Npgsql connection string (<c>Host=…;Database=…</c>) or a URL (<c>postgres://user:pass@host:5432/db</c>).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The schema holding Bulwark's tables (created and migrated on open). Lower-case letters, digits and underscores.</summary>
    public string Schema { get; init; } = "bulwark";

    /// <summary>
    /// The process clock: used only for durations this process measures itself (retry backoff after transient errors,
    /// listener reconnects). Lease expiry, due checks and ordering are judged by the database clock (<c>now()</c>), so that
    /// every machine of a fleet agrees and a worker with a skewed clock can neither steal nor lose leases.
    /// </summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Test seam: when set, the store's "now" is taken from this clock instead of the database's <c>now()</c>, so a test can
    /// move time with <c>FakeTimeProvider.Advance</c>. Never set it in production: it gives up the database clock's
    /// protection against skewed machines. It is a separate option (not inferred from <see cref="Time"/>) so that injecting a
    /// process clock can never silently do that.
    /// </summary>
    public TimeProvider? StoreClockOverride { get; init; }

    /// <summary>Listen for <c>NOTIFY bulwark_jobs</c> on a dedicated connection, so waiters wake at once when any machine enqueues.</summary>
    public bool Listen { get; init; } = true;

    /// <summary>When set, every notification (from any machine) is forwarded to this signal, waking in-process workers.</summary>
    public JobSignal? Signal { get; init; }

    /// <summary>Most operations committed in one group-commit transaction.</summary>
    public int MaxBatchSize { get; init; } = 256;

    /// <summary>How many times a transient error (connection reset, failover, serialization failure, deadlock) is retried before it surfaces.</summary>
    public int TransientRetries { get; init; } = 5;

    /// <summary>Logs transient errors and listener reconnects.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
