using Bulwark.Workers;
using Microsoft.Extensions.Logging;

namespace Bulwark.Sqlite;

/// <summary>Options of the embedded SQLite store.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The database file; created (with its directory) when missing. Default <c>bulwark.db</c>.</summary>
    public string Path { get; set; } = "bulwark.db";

    /// <summary>The store's clock: timestamps, lease expiry and <c>run_at</c> are judged by it. Never used for internal waits.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>How long a write waits for another process holding the file's write lock before it fails. Default 10 s.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most queued write operations committed together in one transaction (group commit). Default 512.</summary>
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>Run <c>PRAGMA quick_check</c> when opening, refusing a damaged file. Default true.</summary>
    public bool QuickCheckOnOpen { get; set; } = true;

    /// <summary>Logs storage trouble, such as the file being locked by a stopped process for longer than <see cref="BusyTimeout"/>.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// This host's wake-up signal: jobs committed by other processes on the same file pulse it at once (through a Unix
    /// datagram socket beside the database), so their workers need not wait for the poll. Set by <c>UseSqlite</c>.
    /// </summary>
    public JobSignal? Signal { get; set; }

    /// <summary>
    /// Ring workers of other processes when a commit makes work available, and (with <see cref="Signal"/>) listen for
    /// their rings. Default true; off, other processes find new jobs at their next poll. Not available on Windows.
    /// </summary>
    public bool CrossProcessWakeUp { get; set; } = true;

    /// <summary>
    /// How long the writer tries for a write lock held by another process every 100 µs, before SQLite's busy handler
    /// (1, 2, 5, 10 … ms sleeps) takes over. Internal: tests widen or shorten it to see each path.
    /// </summary>
    internal TimeSpan LockQuickRetryWindow { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the option to change.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            throw new ArgumentException("SqliteStoreOptions.Path is empty; give the database file, for example 'bulwark.db'.", nameof(Path));
        }

        if (Time is null)
        {
            throw new ArgumentException("SqliteStoreOptions.Time is null; leave it as TimeProvider.System or pass a clock.", nameof(Time));
        }

        if (BusyTimeout <= TimeSpan.Zero || BusyTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"SqliteStoreOptions.BusyTimeout must be between 0 and 10 minutes (got {BusyTimeout}); 10 s suits most setups.", nameof(BusyTimeout));
        }

        if (MaxBatchSize is < 1 or > 100_000)
        {
            throw new ArgumentException($"SqliteStoreOptions.MaxBatchSize must be between 1 and 100000 (got {MaxBatchSize}); 512 suits most setups.", nameof(MaxBatchSize));
        }
    }
}
