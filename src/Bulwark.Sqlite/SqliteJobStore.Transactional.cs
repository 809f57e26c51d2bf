using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite;

/// <summary>
/// Enqueue inside an application's own transaction on the store's file (EF Core's <c>UseSqlite</c>, or a
/// <see cref="SqliteTransaction"/>): the jobs' rows are written through the application's connection with the same code
/// as the store's own enqueue, so they exist if and only if the application commits. SQLite's write lock serialises
/// that transaction with the store's group-commit writer on its other connection.
/// </summary>
public sealed partial class SqliteJobStore : ITransactionalEnqueue
{
    private const string EnqueueSavepoint = "bulwark_enqueue";
    private const int SqliteBusy = 5;

    // Per transaction that enqueued a job a worker could take now: its queues, until Committed. Weak keys, so a transaction
    // that rolled back (or whose commit nobody reported) is forgotten with it.
    private readonly ConditionalWeakTable<DbTransaction, HashSet<string>> _wakeAtCommit = new();
    private string? _fileName;

    /// <summary>
    /// Enqueues inside the caller's own transaction, opened on this store's file (no group commit): the jobs exist if and
    /// only if the caller commits, so a business change and its jobs commit together. Same rules as
    /// <see cref="EnqueueAsync(IReadOnlyList{NewJob}, CancellationToken)"/>: idempotency keys, dependencies, queue policies
    /// for what a job did not set, scheduled or ready. After the commit, call <see cref="Committed"/> (EF Core's
    /// <c>UseBulwark()</c> interceptor does) to wake workers at once; otherwise they find the jobs at their next poll.
    /// </summary>
    /// <remarks>
    /// Open the transaction with <c>BeginTransaction()</c> (<c>BEGIN IMMEDIATE</c>, EF Core's default), which takes the
    /// file's write lock first: a deferred transaction that read before writing cannot take it while another connection
    /// writes. While the transaction is open, the store's writer waits for it (up to <see cref="SqliteStoreOptions.BusyTimeout"/>),
    /// so keep it short. A file that is not a Bulwark store, is at another schema version, or is not this store's file is
    /// refused, and nothing is written.
    /// </remarks>
    public Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(SqliteTransaction transaction, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var connection = transaction.Connection
            ?? throw new ArgumentException("The transaction is already committed or rolled back; pass an open SqliteTransaction.", nameof(transaction));
        JobValidator.ValidateBatch(jobs);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult<IReadOnlyList<EnqueueResult>>(EnqueueInTransaction(connection, transaction, jobs.ToArray()));
        }
        catch (Exception ex)
        {
            return Task.FromException<IReadOnlyList<EnqueueResult>>(ex);
        }
    }

    /// <summary>
    /// <see cref="EnqueueAsync(SqliteTransaction, IReadOnlyList{NewJob}, CancellationToken)"/> for a transaction handed over
    /// as a <see cref="DbTransaction"/> (EF Core's <c>GetDbTransaction()</c>, Dapper); anything but a Microsoft.Data.Sqlite one is refused.
    /// </summary>
    Task<IReadOnlyList<EnqueueResult>> ITransactionalEnqueue.EnqueueAsync(DbTransaction transaction, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        EnqueueAsync(
            transaction as SqliteTransaction ?? throw new ArgumentException(
                $"The SQLite store joins Microsoft.Data.Sqlite transactions only, not {transaction?.GetType().Name ?? "null"}: open the transaction on a connection to the store's file, {_options.Path}.", nameof(transaction)),
            jobs,
            cancellationToken);

    /// <summary>
    /// Wakes workers for the jobs that <paramref name="transaction"/> enqueued, now that it has committed: this process's
    /// through its signal, other processes' through the doorbell. Nothing for a transaction that enqueued no job a worker
    /// could take, or whose wake-up was already done.
    /// </summary>
    public void Committed(DbTransaction transaction)
    {
        if (transaction is null || !_wakeAtCommit.TryGetValue(transaction, out var queues))
        {
            return;
        }

        _wakeAtCommit.Remove(transaction);
        foreach (var queue in queues)
        {
            _options.Signal?.Notify(queue);
        }

        _doorbell?.Ring();
    }

    private EnqueueResult[] EnqueueInTransaction(SqliteConnection connection, SqliteTransaction transaction, NewJob[] jobs)
    {
        var busyMs = (long)_options.BusyTimeout.TotalMilliseconds;
        using var statements = new WriteStatements(connection, transaction, Math.Max(1, (int)Math.Ceiling(_options.BusyTimeout.TotalSeconds)));
        var context = new WriteContext(connection, Now(), statements);
        RefuseUnlessThisStore(context);

        // Microsoft.Data.Sqlite retries a busy command itself but sets no busy timeout on the connection, and the enqueue's
        // prepared statements step through the SQLite API: give them the store's wait for the write lock, then put it back.
        var busyBefore = Convert.ToInt64(Scalar(context, "PRAGMA busy_timeout"), CultureInfo.InvariantCulture);
        if (busyBefore < busyMs)
        {
            Scalar(context, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {busyMs}"));
        }

        // A failure part-way (a missing dependency of the third job) undoes this enqueue's rows, not the caller's changes.
        transaction.Save(EnqueueSavepoint);
        try
        {
            var results = Enqueue(context, jobs);
            transaction.Release(EnqueueSavepoint);
            if (context.Woken)
            {
                var queues = _wakeAtCommit.GetOrAdd(transaction, _ => new HashSet<string>(StringComparer.Ordinal));
                lock (queues)
                {
                    queues.UnionWith(jobs.Select(j => j.Queue));
                }
            }

            return results;
        }
        catch (Exception ex)
        {
            // SQLite may have rolled the whole transaction back itself (disk full, I/O error): then there is no savepoint.
            if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) == 0)
            {
                try
                {
                    transaction.Rollback(EnqueueSavepoint);
                    transaction.Release(EnqueueSavepoint);
                }
                catch (SqliteException)
                {
                    // The caller gets the original failure; their transaction cannot commit this enqueue's rows anyway.
                }
            }

            if (ex is SqliteException { SqliteErrorCode: SqliteBusy } busy)
            {
                throw new SqliteException(
                    $"The job could not be written in your transaction: the store's file {_options.Path} stayed locked by another connection. "
                    + "Open the transaction with BeginTransaction() / BeginTransactionAsync() (BEGIN IMMEDIATE, EF Core's default), not deferred: a deferred "
                    + "transaction that has read cannot take the write lock while another connection writes. Nothing of the job was stored.",
                    busy.SqliteErrorCode,
                    busy.SqliteExtendedErrorCode);
            }

            throw;
        }
        finally
        {
            if (busyBefore < busyMs && connection.State == System.Data.ConnectionState.Open)
            {
                Scalar(context, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {busyBefore}"));
            }
        }
    }

    /// <summary>
    /// Refuses a transaction on a file that is not a Bulwark store, is at a schema version this code does not write, or is
    /// another file than this store's: the job would be lost, or written wrongly.
    /// </summary>
    private void RefuseUnlessThisStore(WriteContext c)
    {
        var file = c.Connection.DataSource is { Length: > 0 } name ? name : "an in-memory database";
        var tables = Scalar(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('jobs', 'job_dependencies', 'queues')");
        var version = Convert.ToInt32(Scalar(c, "PRAGMA user_version"), CultureInfo.InvariantCulture);
        if (tables is not 3L || version == 0)
        {
            throw new InvalidOperationException(
                $"Your transaction is on {file}, which is not a Bulwark job store, so the job cannot be written with your changes. "
                + $"Open the transaction on the store's own file, {_options.Path} (with EF Core: UseSqlite(\"Data Source={_options.Path}\")). Nothing was stored.");
        }

        if (version != SqliteSchema.CurrentVersion)
        {
            throw new InvalidOperationException(
                $"Your transaction is on {file}, a Bulwark job store at schema version {version}, but this Bulwark writes version {SqliteSchema.CurrentVersion}. "
                + (version > SqliteSchema.CurrentVersion
                    ? "A newer Bulwark has migrated it: upgrade this process. "
                    : $"Open the transaction on the store's own file, {_options.Path}, which this process has migrated. ")
                + "Nothing was stored.");
        }

        if (!string.Equals(c.Connection.DataSource, FileName(), StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"Your transaction is on {file}, but this store's jobs are in {_options.Path}: its workers would never see the job. "
                + $"Open the transaction on the store's file (with EF Core: UseSqlite(\"Data Source={_options.Path}\")). Nothing was stored.");
        }
    }

    /// <summary>The store's file as SQLite names it (absolute, links resolved), read once from a connection of its own.</summary>
    private string FileName()
    {
        if (Volatile.Read(ref _fileName) is { } known)
        {
            return known;
        }

        using var connection = new SqliteConnection(_readConnectionString);
        connection.Open();
        Volatile.Write(ref _fileName, connection.DataSource);
        return _fileName!;
    }
}
