using System.Text.RegularExpressions;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Bulwark.Postgres;

/// <summary>
/// The PostgreSQL job store for fleets of machines on one database: <c>FOR UPDATE SKIP LOCKED</c> leasing over a partial
/// index of ready jobs, lease expiry and ordering judged by the database clock, <c>LISTEN/NOTIFY</c> wake-ups, versioned
/// migrations under an advisory lock, group commit, and transactional enqueue inside the application's own transaction.
/// </summary>
public sealed partial class PostgresJobStore : IJobStore, IJobQuery, ITransactionalEnqueue
{
    /// <summary>The notification channel of the default schema.</summary>
    public const string DefaultNotificationChannel = "bulwark_jobs";

    private const string LiveStates = "('pending','scheduled','ready','running')";
    private const string TerminalStates = "('completed','failed','dead_letter','cancelled')";

    private readonly PostgresStoreOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _schema;
    private readonly TimeProvider? _storeClock;
    private readonly GroupCommitWriter _writer;
    private readonly JobNotificationListener? _listener;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private readonly BackoffTexts _backoffs = new();
    private Task? _opened;
    private int _disposed;

    private PostgresJobStore(PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!SchemaName().IsMatch(options.Schema))
        {
            throw new ArgumentException($"'{options.Schema}' is not a usable schema name; use lower-case letters, digits and underscores, starting with a letter (at most 63).", nameof(options));
        }

        if (options.MaxBatchSize < 1)
        {
            throw new ArgumentException($"MaxBatchSize must be at least 1 (got {options.MaxBatchSize}).", nameof(options));
        }

        _options = options;
        _schema = PostgresMigrations.Quote(options.Schema);
        _storeClock = options.StoreClockOverride;
        _logger = options.LoggerFactory?.CreateLogger<PostgresJobStore>() ?? (ILogger)NullLogger.Instance;
        _dataSource = NpgsqlDataSource.Create(PostgresConnectionString.ForStore(options.ConnectionString));
        _writer = new GroupCommitWriter(_dataSource, options.MaxBatchSize, options.TransientRetries, options.Time, _logger, InsertPlainJobsAsync);
        NotificationChannel = options.Schema == "bulwark" ? DefaultNotificationChannel : $"{DefaultNotificationChannel}_{options.Schema}"[..Math.Min(63, DefaultNotificationChannel.Length + 1 + options.Schema.Length)];
        _listener = options.Listen ? new JobNotificationListener(_dataSource, NotificationChannel, options.Signal, options.Time, _logger) : null;
    }

    /// <summary>Connects, migrates the schema (safe when many processes start at once) and starts listening for notifications.</summary>
    public static async Task<PostgresJobStore> OpenAsync(PostgresStoreOptions options, CancellationToken cancellationToken = default)
    {
        var store = new PostgresJobStore(options);
        try
        {
            await store.EnsureOpenAsync(cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// True when a <c>--store</c> value names PostgreSQL: a <c>postgres://</c> or <c>postgresql://</c> URL, or an Npgsql
    /// connection string (it has a <c>Host=</c> or <c>Server=</c> part). Lets a CLI choose between this store and a file path.
    /// </summary>
    public static bool IsPostgresStore(string? store) =>
        !string.IsNullOrWhiteSpace(store)
        && (PostgresConnectionString.IsUrl(store.Trim())
            || store.Contains("Host=", StringComparison.OrdinalIgnoreCase)
            || store.Contains("Server=", StringComparison.OrdinalIgnoreCase));

    /// <summary>Creates a store that connects and migrates on first use (for dependency injection, where factories are synchronous).</summary>
    public static PostgresJobStore Create(PostgresStoreOptions options) => new(options);

    /// <summary>
    /// The channel on which every enqueue (and every job made ready) notifies its queue name (the payload):
    /// <c>bulwark_jobs</c> for the default schema, <c>bulwark_jobs_&lt;schema&gt;</c> otherwise, so that two installations
    /// sharing a database do not wake each other.
    /// </summary>
    public string NotificationChannel { get; }

    /// <summary>The schema this store uses.</summary>
    public string Schema => _options.Schema;

    /// <summary>
    /// Waits until any machine enqueues (or makes ready) a job in this database, or until <paramref name="timeout"/>.
    /// Returns the queue named by the notification, or null on timeout. Workers use it between polls.
    /// </summary>
    public async Task<string?> WaitForJobsAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await EnsureOpenAsync(cancellationToken);
        if (_listener is null)
        {
            throw new InvalidOperationException("This store was opened with Listen = false; set PostgresStoreOptions.Listen to wait for notifications.");
        }

        return await _listener.WaitAsync(timeout, cancellationToken);
    }

    /// <summary>Group-commit statistics: transactions committed and the write operations they carried.</summary>
    internal (long Commits, long Operations) WriterStats => _writer.Stats;

    /// <summary>Plain enqueues the writer inserted together with others of their batch.</summary>
    internal long WriterMergedEnqueues => _writer.MergedEnqueues;

    private async Task EnsureOpenAsync(CancellationToken cancellationToken)
    {
        var opened = Volatile.Read(ref _opened);
        if (opened is { IsCompletedSuccessfully: true })
        {
            return;
        }

        await _openGate.WaitAsync(cancellationToken);
        try
        {
            if (_opened is null || _opened.IsFaulted || _opened.IsCanceled)
            {
                _opened = OpenCoreAsync(cancellationToken);
            }

            opened = _opened;
        }
        finally
        {
            _openGate.Release();
        }

        await opened.WaitAsync(cancellationToken);
    }

    private async Task OpenCoreAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                var (from, to) = await PostgresMigrations.ApplyAsync(connection, _options.Schema, cancellationToken);
                if (from != to)
                {
                    PostgresLog.Migrated(_logger, _options.Schema, from, to);
                }

                break;
            }
            catch (Exception ex) when (TransientErrors.IsTransient(ex) && attempt <= _options.TransientRetries && !cancellationToken.IsCancellationRequested)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(2000, 50 * Math.Pow(2, attempt)));
                PostgresLog.TransientRetry(_logger, ex, attempt, delay.TotalMilliseconds);
                await Task.Delay(delay, _options.Time, cancellationToken);
            }
        }

        if (_listener is not null)
        {
            await _listener.StartAsync(cancellationToken);
        }
    }

    /// <summary>Queues a write for the group-commit loop, after making sure the schema is migrated.</summary>
    private async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        return await _writer.WriteAsync(body, cancellationToken);
    }

    /// <summary>
    /// A command over this store's schema. <c>@now</c> in the SQL is the store's clock: the database's <c>now()</c> (one
    /// instant per transaction, the same for every machine), or, only when the test seam is set, a parameter from
    /// <see cref="PostgresStoreOptions.StoreClockOverride"/>. Workers never send their own wall clock for lease expiry.
    /// </summary>
    private NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql)
    {
        var text = sql.Replace("{s}", _schema, StringComparison.Ordinal);
        if (_storeClock is null)
        {
            return new NpgsqlCommand(text.Replace("@now", "now()", StringComparison.Ordinal), connection, transaction);
        }

        var command = new NpgsqlCommand(text, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter("now", NpgsqlDbType.TimestampTz) { Value = _storeClock.GetUtcNow().ToUniversalTime() });
        return command;
    }

    /// <summary>One statement of an <see cref="NpgsqlBatch"/> (several statements, one round trip), with the same <c>{s}</c> and <c>@now</c> rules as <see cref="Command"/>.</summary>
    private NpgsqlBatchCommand BatchCommand(string sql)
    {
        var text = sql.Replace("{s}", _schema, StringComparison.Ordinal);
        if (_storeClock is null)
        {
            return new NpgsqlBatchCommand(text.Replace("@now", "now()", StringComparison.Ordinal));
        }

        var command = new NpgsqlBatchCommand(text);
        command.Parameters.Add(new NpgsqlParameter("now", NpgsqlDbType.TimestampTz) { Value = _storeClock.GetUtcNow().ToUniversalTime() });
        return command;
    }

    private static void Add(NpgsqlCommand command, string name, NpgsqlDbType type, object? value) =>
        command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });

    private static void Add(NpgsqlBatchCommand command, string name, NpgsqlDbType type, object? value) =>
        command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });

    private static object? Utc(DateTimeOffset? value) => value?.ToUniversalTime();

    /// <summary>Reads from a pooled connection (reads do not go through the writer).</summary>
    private async Task<T> ReadAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                return await body(connection, cancellationToken);
            }
            catch (Exception ex) when (TransientErrors.IsTransient(ex) && attempt <= _options.TransientRetries && !cancellationToken.IsCancellationRequested)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(2000, 25 * Math.Pow(2, attempt)));
                PostgresLog.TransientRetry(_logger, ex, attempt, delay.TotalMilliseconds);
                await Task.Delay(delay, _options.Time, cancellationToken);
            }
        }
    }

    private static async Task<List<JobSnapshot>> ReadJobsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var jobs = new List<JobSnapshot>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            jobs.Add(JobRows.ReadJob(reader));
        }

        return jobs;
    }

    private async Task NotifyAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IEnumerable<string> queues, CancellationToken cancellationToken)
    {
        var distinct = queues.Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.Length == 0)
        {
            return;
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(NotifyCommand(distinct));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// One notification per distinct queue, delivered at commit (so a woken worker always finds the job). PostgreSQL
    /// delivers it to every listening connection of the database, so callers send one per transaction, never one per job.
    /// </summary>
    private NpgsqlBatchCommand NotifyCommand(string[] distinctQueues)
    {
        var command = BatchCommand("SELECT pg_notify(@channel, q) FROM unnest(@queues) AS q");
        Add(command, "channel", NpgsqlDbType.Text, NotificationChannel);
        Add(command, "queues", NpgsqlDbType.Array | NpgsqlDbType.Text, distinctQueues);
        return command;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // Hosts may dispose it more than once (DI tracks it under each service it is registered as).
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _writer.DisposeAsync();
        if (_listener is not null)
        {
            await _listener.DisposeAsync();
        }

        await _dataSource.DisposeAsync();
        _openGate.Dispose();
    }

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();
}
