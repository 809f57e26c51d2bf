using Bulwark.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode with <c>synchronous=FULL</c>. Writes go through one group-commit
/// writer per instance (each caller completes after the fsynced commit); reads use separate pooled connections.
/// Several instances and processes may share one file: SQLite's write lock serialises their transactions.
/// </summary>
public sealed partial class SqliteJobStore : IJobStore, IJobQuery
{
    private readonly SqliteStoreOptions _options;
    private readonly SqliteConnection _writerConnection;
    private readonly GroupCommitWriter _writer;
    private readonly string _readConnectionString;
    private readonly SqliteDoorbell? _doorbell;
    private int _disposed;

    private SqliteJobStore(SqliteStoreOptions options, SqliteConnection writerConnection, string readConnectionString)
    {
        _options = options;
        _writerConnection = writerConnection;
        _readConnectionString = readConnectionString;
        var logger = options.LoggerFactory?.CreateLogger<SqliteJobStore>() ?? (ILogger)NullLogger.Instance;
        _doorbell = options.CrossProcessWakeUp ? SqliteDoorbell.Create(options.Path, options.Signal, logger) : null;
        _writer = new GroupCommitWriter(
            writerConnection,
            options.Time,
            options.MaxBatchSize,
            options.BusyTimeout,
            options.LockQuickRetryWindow,
            options.Path,
            logger,
            _doorbell is null ? null : _doorbell.Ring);
    }

    /// <summary>The database file.</summary>
    public string Path => _options.Path;

    /// <summary>How often the writer met another connection's write lock: taken within the quick window, waited for past it; quick tries.</summary>
    internal (long Quick, long Slow, long BusyTries) LockWaits => _writer.LockWaits;

    /// <summary>Transactions committed by this instance's writer (group commit makes this far smaller than the number of writes).</summary>
    internal long Commits => _writer.Commits;

    /// <summary>Write operations committed by this instance's writer.</summary>
    internal long Operations => _writer.Operations;

    /// <summary>The cross-process wake-up, or null when it is off or unavailable.</summary>
    internal SqliteDoorbell? Doorbell => _doorbell;

    /// <summary>
    /// Opens (creating when missing) the store at <c>options.Path</c>: checks the file's integrity, migrates its schema,
    /// and starts the writer. A damaged or foreign file throws <see cref="StoreCorruptException"/> and is left untouched.
    /// </summary>
    public static SqliteJobStore Open(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var path = System.IO.Path.GetFullPath(options.Path);
        var directory = System.IO.Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var busyMs = (int)options.BusyTimeout.TotalMilliseconds;
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, busyMs / 1000),
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            // The integrity check runs before anything that writes (journal mode, migrations), so a refused file stays as it was.
            if (options.QuickCheckOnOpen)
            {
                QuickCheck(connection, path);
            }

            Pragma(connection, $"PRAGMA busy_timeout = {busyMs}");
            var mode = Convert.ToString(ScalarOrCorrupt(connection, "PRAGMA journal_mode = WAL", path), System.Globalization.CultureInfo.InvariantCulture);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"The job store '{path}' could not switch to WAL mode (it reports '{mode}'); put it on a local file system that supports shared memory.");
            }

            Pragma(connection, "PRAGMA synchronous = FULL");
            // Statement journals (each write runs in a SAVEPOINT) and ephemeral tables (RETURNING, IN lists) otherwise
            // spill to files in /var/tmp: one create + unlink per lease or completion batch, found with strace. They
            // hold nothing durable (the transaction is uncommitted while they exist), so memory is as safe.
            Pragma(connection, "PRAGMA temp_store = MEMORY");
            Pragma(connection, "PRAGMA foreign_keys = ON");
            SqliteSchema.Migrate(connection, path);
        }
        catch
        {
            connection.Dispose();
            SqliteConnection.ClearPool(connection);
            throw;
        }

        var resolved = new SqliteStoreOptions
        {
            Path = path,
            Time = options.Time,
            BusyTimeout = options.BusyTimeout,
            MaxBatchSize = options.MaxBatchSize,
            QuickCheckOnOpen = options.QuickCheckOnOpen,
            LoggerFactory = options.LoggerFactory,
            Signal = options.Signal,
            CrossProcessWakeUp = options.CrossProcessWakeUp,
            LockQuickRetryWindow = options.LockQuickRetryWindow,
        };
        return new SqliteJobStore(resolved, connection, builder.ToString());
    }

    /// <summary>Opens the store (see <see cref="Open"/>) off the caller's thread.</summary>
    public static Task<SqliteJobStore> OpenAsync(SqliteStoreOptions options, CancellationToken cancellationToken = default) =>
        Task.Run(() => Open(options), cancellationToken);

    /// <summary>Stops the writer after the queued writes are committed, and closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _writer.DisposeAsync().ConfigureAwait(false);
        _doorbell?.Dispose();
        await _writerConnection.DisposeAsync().ConfigureAwait(false);
        SqliteConnection.ClearPool(_writerConnection);
    }

    private static void QuickCheck(SqliteConnection connection, string path)
    {
        var problems = new List<string>();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA quick_check";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                problems.Add(reader.GetString(0));
            }
        }
        catch (SqliteException ex)
        {
            throw Corrupt(path, ex.Message, ex);
        }

        if (problems is not ["ok"])
        {
            throw Corrupt(path, string.Join("; ", problems.Take(5)), null);
        }
    }

    private static StoreCorruptException Corrupt(string path, string detail, Exception? inner) => new(
        $"The job store '{path}' is damaged or is not a Bulwark SQLite database ({detail}). Bulwark will not rebuild it: " +
        "stop every process using it, restore the file from a backup (or move it aside to start with an empty store), then start again. The file was not changed.",
        inner);

    private static object? ScalarOrCorrupt(SqliteConnection connection, string sql, string path)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return command.ExecuteScalar();
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 11 or 26)
        {
            throw Corrupt(path, ex.Message, ex);
        }
    }

    private static void Pragma(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private Task<T> WriteAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _writer.WriteAsync(work, cancellationToken);
    }

    private async Task<T> ReadAsync<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var connection = new SqliteConnection(_readConnectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return read(connection);
        }
    }

    /// <summary>A pragma's value on the writer's connection, read by the writer (for tests: per-connection settings).</summary>
    internal Task<long> WriterPragmaAsync(string pragma, CancellationToken cancellationToken = default) =>
        WriteAsync(c =>
        {
            using var command = c.Connection.CreateCommand();
            command.CommandText = $"PRAGMA {pragma}";
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken);

    private long Now() => _options.Time.GetUtcNow().ToUnixTimeMilliseconds();
}
