using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Bulwark.Sqlite;

/// <summary>
/// The one writer of a store instance. Concurrent write operations queue here; the loop drains up to
/// <c>maxBatch</c> of them, runs them in one <c>BEGIN IMMEDIATE</c> transaction (each inside a SAVEPOINT, so one
/// operation's failure fails only its caller), commits, and only then completes each caller. Durability stays
/// per operation, while one fsync serves the whole batch.
/// </summary>
internal sealed class GroupCommitWriter : IAsyncDisposable
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private static readonly TimeSpan QuickRetry = TimeSpan.FromMicroseconds(100);

    private readonly Channel<WriteOperation> _queue = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _connection;
    private readonly TimeProvider _clock;
    private readonly int _maxBatch;
    private readonly TimeSpan _busyTimeout;
    private readonly TimeSpan _quickWindow;
    private readonly string _path;
    private readonly ILogger _logger;
    private readonly WriteStatements _statements;
    private readonly Task _loop;
    private readonly Action? _committedWork;
    private long _commits;
    private long _operations;
    private long _quickLockWaits;
    private long _slowLockWaits;
    private long _busyTries;

    // When another process began holding the write lock past the busy timeout (Stopwatch timestamp), or 0.
    private long _lockedSince;

    internal GroupCommitWriter(SqliteConnection connection, TimeProvider clock, int maxBatch, TimeSpan busyTimeout, TimeSpan quickWindow, string path, ILogger logger, Action? committedWork = null)
    {
        _committedWork = committedWork;
        _path = path;
        _logger = logger;
        // Microsoft.Data.Sqlite retries SQLITE_BUSY itself until CommandTimeout; 0 would mean forever, which let a
        // stopped process holding the lock stall this writer silently. SQLite's busy_timeout does the waiting.
        var commandTimeoutSeconds = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds));
        _connection = connection;
        _statements = new WriteStatements(connection, transaction: null, commandTimeoutSeconds);
        _clock = clock;
        _maxBatch = maxBatch;
        _busyTimeout = busyTimeout;
        _quickWindow = quickWindow;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Transactions committed so far (for tests and diagnostics).</summary>
    internal long Commits => Interlocked.Read(ref _commits);

    /// <summary>
    /// Begins that met another connection's write lock: taken within the quick window, and left to the busy handler; and
    /// the quick tries that found it held.
    /// </summary>
    internal (long Quick, long Slow, long BusyTries) LockWaits =>
        (Interlocked.Read(ref _quickLockWaits), Interlocked.Read(ref _slowLockWaits), Interlocked.Read(ref _busyTries));

    /// <summary>Operations committed so far.</summary>
    internal long Operations => Interlocked.Read(ref _operations);

    internal Task<T> WriteAsync<T>(Func<WriteContext, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var operation = new WriteOperation<T>(work, cancellationToken);
        if (!_queue.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteJobStore), "The SQLite job store was disposed; open a new one.");
        }

        return operation.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _statements.Dispose();
    }

    private async Task RunAsync()
    {
        var batch = new List<WriteOperation>(_maxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && reader.TryRead(out var operation))
            {
                // A caller that gave up before its turn is skipped; once started, an operation runs to its commit.
                if (!operation.TryCancelIfRequested())
                {
                    batch.Add(operation);
                }
            }

            if (batch.Count > 0)
            {
                try
                {
                    await CommitBatchAsync(batch).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // The loop must outlive any failure, or every later caller would wait forever.
                    if (InTransaction())
                    {
                        TryExecute("ROLLBACK");
                    }

                    foreach (var operation in batch)
                    {
                        operation.Fail(ex);
                        operation.Complete();
                    }
                }
            }
        }
    }

    private async Task CommitBatchAsync(List<WriteOperation> batch)
    {
        try
        {
            await BeginImmediateAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            foreach (var operation in batch)
            {
                operation.Fail(ex);
                operation.Complete();
            }

            return;
        }

        var context = new WriteContext(_connection, _clock.GetUtcNow().ToUnixTimeMilliseconds(), _statements);
        Exception? fatal = null;
        foreach (var operation in batch)
        {
            Execute("SAVEPOINT op");
            try
            {
                operation.Run(context);
                Execute("RELEASE op");
            }
            catch (Exception ex)
            {
                operation.Fail(ex);
                if (!InTransaction())
                {
                    // SQLite rolled the whole transaction back (I/O error, disk full): nothing of this batch is stored.
                    fatal = ex;
                    break;
                }

                Execute("ROLLBACK TO op");
                Execute("RELEASE op");
            }
        }

        if (fatal is null)
        {
            try
            {
                Execute("COMMIT");
                Interlocked.Increment(ref _commits);
                Interlocked.Add(ref _operations, batch.Count);
                if (context.Woken)
                {
                    // Before the callers are answered: a producer's acknowledgement and the other process's wake-up race
                    // no further than the datagram.
                    _committedWork?.Invoke();
                }
            }
            catch (Exception ex)
            {
                fatal = ex;
            }
        }

        if (fatal is not null)
        {
            if (InTransaction())
            {
                TryExecute("ROLLBACK");
            }

            foreach (var operation in batch)
            {
                operation.Fail(fatal);
            }
        }

        foreach (var operation in batch)
        {
            operation.Complete();
        }
    }

    private async Task BeginImmediateAsync()
    {
        // Real time on purpose: the store clock may be a fake in tests.
        var started = Stopwatch.GetTimestamp();
        if (TryBeginQuickly(started))
        {
            NoteUnlocked();
            return;
        }

        Interlocked.Increment(ref _slowLockWaits);

        // SQLite's busy handler already waits up to busy_timeout; this loop adds backoff on top for a busy
        // file held by another process.
        var delay = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            try
            {
                Execute("BEGIN IMMEDIATE");
                NoteUnlocked();
                return;
            }
            catch (SqliteException ex) when ((ex.SqliteErrorCode & 0xFF) is SqliteBusy or SqliteLocked)
            {
                if (Stopwatch.GetElapsedTime(started) < _busyTimeout)
                {
                    await Task.Delay(delay).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks));
                    continue;
                }

                // Surface it: each caller fails (counted by the storage circuit), and the log names the situation.
                if (_lockedSince == 0)
                {
                    _lockedSince = started;
                }

                var seconds = (long)Math.Round(Stopwatch.GetElapsedTime(_lockedSince).TotalSeconds);
                SqliteLog.DatabaseLocked(_logger, _path, seconds);
                throw new SqliteException(
                    $"The database {_path} is locked by another process for {seconds}s: a process holding its write lock is stopped or hung "
                    + "(SIGSTOP, a paused debugger or container). Resume or kill it; see docs/sqlite.md.",
                    ex.SqliteErrorCode,
                    ex.SqliteExtendedErrorCode);
            }
        }
    }

    private void NoteUnlocked()
    {
        if (_lockedSince != 0)
        {
            SqliteLog.DatabaseUnlocked(_logger, _path, (long)Stopwatch.GetElapsedTime(_lockedSince).TotalSeconds);
            _lockedSince = 0;
        }
    }

    /// <summary>
    /// Tries for the write lock every <see cref="QuickRetry"/> during the first quick window (20 ms), with SQLite's
    /// busy handler off. Another process's commit holds the lock for about a millisecond, but the busy handler sleeps 1,
    /// 2, 5, 10 … ms between its tries, so a lease that met a producer's commit waited 3–8 ms for a lock that was free
    /// after one (the cross-process pickup tail, docs/performance.md). False when the lock is still held at the end of the
    /// window: then the caller waits the slow way.
    /// </summary>
    private bool TryBeginQuickly(long started)
    {
        SQLitePCL.raw.sqlite3_busy_timeout(_connection.Handle, 0);
        try
        {
            for (var tries = 0; ; tries++)
            {
                var rc = _statements.Raw("BEGIN IMMEDIATE").TryExecute();
                if (rc == SQLitePCL.raw.SQLITE_DONE)
                {
                    if (tries > 0)
                    {
                        Interlocked.Increment(ref _quickLockWaits);
                    }

                    return true;
                }

                if ((rc & 0xFF) is not (SqliteBusy or SqliteLocked) || Stopwatch.GetElapsedTime(started) >= _quickWindow)
                {
                    // Anything but busy is left to the ordinary path, which raises it with SQLite's message.
                    return false;
                }

                Interlocked.Increment(ref _busyTries);
                ShortSleep.For(QuickRetry);
            }
        }
        finally
        {
            SQLitePCL.raw.sqlite3_busy_timeout(_connection.Handle, (int)Math.Min(int.MaxValue, _busyTimeout.TotalMilliseconds));
        }
    }

    private bool InTransaction() => SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0;

    private void Execute(string sql)
    {
        // The transaction-control statements run several times per operation (SAVEPOINT, RELEASE) and per batch; through
        // the SQLite API they skip ADO.NET's per-execution reader setup, which single-job writes paid for each one.
        var statement = _statements.Raw(sql);
        try
        {
            while (statement.Step())
            {
            }
        }
        finally
        {
            statement.Reset();
        }
    }

    private void TryExecute(string sql)
    {
        try
        {
            Execute(sql);
        }
        catch (SqliteException)
        {
            // Best effort: the connection reports the original failure to every caller anyway.
        }
    }
}
