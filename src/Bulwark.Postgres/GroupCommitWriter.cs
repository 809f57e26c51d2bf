using System.Threading.Channels;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Bulwark.Postgres;

/// <summary>
/// Funnels a store's concurrent writes through one loop that commits many operations per transaction and completes each
/// caller only after COMMIT. When one operation is refused, the batch is run again with a savepoint per operation, so the
/// refusal does not sink its neighbours.
/// Durability stays per operation while the fsync cost is shared by the batch. The plain enqueues of a batch (many
/// producers enqueueing one job each) are inserted together in one statement.
/// </summary>
internal sealed class GroupCommitWriter : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly int _maxBatch;
    private readonly int _retries;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<NpgsqlConnection, NpgsqlTransaction, IReadOnlyList<NewJob>, CancellationToken, Task<IReadOnlyList<EnqueueResult>>>? _insertPlain;
    private readonly Channel<WriteOperation> _queue = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private NpgsqlConnection? _connection;
    private long _commits;
    private long _committedOperations;
    private long _mergedEnqueues;

    // insertPlain inserts plain jobs (no key, no dependencies) and returns their ids in order: used to merge the plain enqueues of a batch.
    public GroupCommitWriter(
        NpgsqlDataSource dataSource, int maxBatch, int retries, TimeProvider time, ILogger logger,
        Func<NpgsqlConnection, NpgsqlTransaction, IReadOnlyList<NewJob>, CancellationToken, Task<IReadOnlyList<EnqueueResult>>>? insertPlain = null)
    {
        _insertPlain = insertPlain;
        _dataSource = dataSource;
        _maxBatch = Math.Max(1, maxBatch);
        _retries = Math.Max(0, retries);
        _time = time;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Transactions committed so far, and the operations they carried (how well group commit is batching).</summary>
    public (long Commits, long Operations) Stats => (Interlocked.Read(ref _commits), Interlocked.Read(ref _committedOperations));

    /// <summary>Plain enqueues that were inserted together with others of their batch (counted per run, committed or not).</summary>
    public long MergedEnqueues => Interlocked.Read(ref _mergedEnqueues);

    public Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> body, CancellationToken cancellationToken) =>
        Queue(new WriteOperation<T>(body, cancellationToken), cancellationToken);

    /// <summary>
    /// A plain enqueue (none of <paramref name="jobs"/> has a key or dependencies): merged with the batch's other plain
    /// enqueues into one insert; <paramref name="body"/> runs it alone when the batch has no other, or when a refused
    /// operation makes the writer run each operation on its own.
    /// </summary>
    public Task<IReadOnlyList<EnqueueResult>> WritePlainEnqueueAsync(
        IReadOnlyList<NewJob> jobs, Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<IReadOnlyList<EnqueueResult>>> body, CancellationToken cancellationToken) =>
        Queue(new WriteOperation<IReadOnlyList<EnqueueResult>>(body, cancellationToken, jobs), cancellationToken);

    private Task<T> Queue<T>(WriteOperation<T> op, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_queue.Writer.TryWrite(op))
        {
            throw new ObjectDisposedException(nameof(PostgresJobStore), "The PostgreSQL store is disposed.");
        }

        return op.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<WriteOperation>(_maxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && reader.TryRead(out var op))
            {
                // A caller that gave up before its turn is not written at all.
                if (op.CallerToken.IsCancellationRequested)
                {
                    op.TryCancel();
                    continue;
                }

                batch.Add(op);
            }

            if (batch.Count > 0)
            {
                await ExecuteAsync(batch).ConfigureAwait(false);
            }
        }
    }

    private async Task ExecuteAsync(List<WriteOperation> batch)
    {
        var token = _stopping.Token;
        var isolated = false;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var connection = await ConnectionAsync(token).ConfigureAwait(false);
                await using var tx = await connection.BeginTransactionAsync(token).ConfigureAwait(false);
                if (isolated)
                {
                    await RunIsolatedAsync(batch, tx, connection, token).ConfigureAwait(false);
                }
                else if (await RunTogetherAsync(batch, connection, tx, token).ConfigureAwait(false) is { } failed)
                {
                    await tx.RollbackAsync(token).ConfigureAwait(false);
                    if (batch.Count == 1)
                    {
                        failed.Publish();
                        return;
                    }

                    // A refused operation aborted the shared transaction: run the batch again with a savepoint around each
                    // operation, so the refusal sinks only its own. Rare (bad input), so the common batch pays no savepoints.
                    isolated = true;
                    attempt--;
                    continue;
                }

                // The transaction's id, read before COMMIT: if the connection breaks while COMMIT is under way, the
                // database may have committed without the answer reaching us. Running the batch again would then store its
                // enqueues twice (an unkeyed job has nothing else to recognise it by) and lease jobs nobody runs, so the
                // writer asks the database what became of that id instead (docs/adr/0004). One round trip per
                // transaction, not per job; null when the batch wrote nothing (then repeating it is harmless).
                var xid = await TransactionIdAsync(connection, tx, token).ConfigureAwait(false);
                try
                {
                    await tx.CommitAsync(token).ConfigureAwait(false);
                }
                catch (Exception ex) when (xid is not null && TransientErrors.IsTransient(ex) && !token.IsCancellationRequested)
                {
                    await DropConnectionAsync().ConfigureAwait(false);
                    switch (await CommitStatusAsync(xid, token).ConfigureAwait(false))
                    {
                        case "committed":
                            PostgresLog.CommitAnswerLost(_logger, ex, xid, batch.Count);
                            break;
                        case "aborted":
                            // Nothing of the batch is stored: running it again is safe, under the transient-retry rules below.
                            PostgresLog.CommitLostAborted(_logger, xid, batch.Count);
                            throw;
                        case var unknown:
                            var outcome = new StoreOutcomeUnknownException(
                                $"The connection to PostgreSQL broke during COMMIT of transaction {xid}, and its status could not be read afterwards (last answer: {unknown}); " +
                                "the write was not repeated, so it may or may not be stored. Look before retrying, or give the jobs keys so a retry is safe.", ex);
                            PostgresLog.BatchFailed(_logger, outcome, batch.Count);
                            foreach (var op in batch)
                            {
                                op.Fail(outcome);
                            }

                            return;
                    }
                }

                Interlocked.Increment(ref _commits);
                Interlocked.Add(ref _committedOperations, batch.Count);
                foreach (var op in batch)
                {
                    op.Publish();
                }

                return;
            }
            catch (Exception ex) when (TransientErrors.IsTransient(ex) && attempt <= _retries && !token.IsCancellationRequested)
            {
                await DropConnectionAsync().ConfigureAwait(false);
                var delay = TimeSpan.FromMilliseconds(Math.Min(2000, 25 * Math.Pow(2, attempt)));
                PostgresLog.TransientRetry(_logger, ex, attempt, delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
            catch (Exception ex)
            {
                await DropConnectionAsync().ConfigureAwait(false);
                PostgresLog.BatchFailed(_logger, ex, batch.Count);
                foreach (var op in batch)
                {
                    op.Fail(ex);
                }

                return;
            }
        }
    }

    private static async Task<string?> TransactionIdAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken token)
    {
        await using var command = new NpgsqlCommand("SELECT pg_current_xact_id_if_assigned()::text", connection, tx);
        return await command.ExecuteScalarAsync(token).ConfigureAwait(false) as string;
    }

    /// <summary>
    /// What became of transaction <paramref name="xid"/> whose COMMIT lost its connection: <c>committed</c>, <c>aborted</c>,
    /// or, when the database cannot be asked within the transient-retry budget (or forgot the id), what was last heard
    /// (<c>in progress</c>, <c>unreachable</c>). A fresh connection; <c>in progress</c> is asked again, since the broken
    /// backend may still be finishing.
    /// </summary>
    private async Task<string> CommitStatusAsync(string xid, CancellationToken token)
    {
        var last = "unreachable";
        for (var attempt = 1; attempt <= _retries + 1 && !token.IsCancellationRequested; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(token).ConfigureAwait(false);
                await using var command = new NpgsqlCommand("SELECT pg_xact_status(@xid::xid8)", connection);
                command.Parameters.AddWithValue("xid", xid);
                last = await command.ExecuteScalarAsync(token).ConfigureAwait(false) as string ?? "forgotten";
                if (last is "committed" or "aborted")
                {
                    return last;
                }
            }
            catch (Exception ex) when (TransientErrors.IsTransient(ex) && !token.IsCancellationRequested)
            {
                last = "unreachable";
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 25 * Math.Pow(2, attempt))), _time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return last;
    }

    /// <summary>Runs every operation in the one transaction; returns the first that failed on its own account (the transaction is then aborted), or null.</summary>
    private async Task<WriteOperation?> RunTogetherAsync(List<WriteOperation> batch, NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken token)
    {
        foreach (var op in batch)
        {
            op.Reset();
        }

        var merged = await InsertPlainTogetherAsync(batch, connection, tx, token).ConfigureAwait(false);
        if (merged is { Failed: { } refused })
        {
            return refused;
        }

        foreach (var op in batch)
        {
            if (merged.Done && op.PlainJobs is not null)
            {
                continue;
            }

            try
            {
                await op.RunAsync(connection, tx, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!TransientErrors.IsTransient(ex) && !token.IsCancellationRequested)
            {
                op.SetFailure(ex);
                return op;
            }
        }

        return null;
    }

    /// <summary>
    /// Inserts the jobs of every plain enqueue in the batch with one statement (ids in batch order) and hands each
    /// operation its slice. Done is false when fewer than two plain enqueues are waiting (each then runs its own body).
    /// A refused insert is charged to the first of them; the batch then reruns operation by operation, so the job at
    /// fault fails only its own caller.
    /// </summary>
    private async Task<(bool Done, WriteOperation? Failed)> InsertPlainTogetherAsync(List<WriteOperation> batch, NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken token)
    {
        if (_insertPlain is null)
        {
            return (false, null);
        }

        var plain = 0;
        var jobs = 0;
        foreach (var op in batch)
        {
            if (op.PlainJobs is { } some)
            {
                plain++;
                jobs += some.Count;
            }
        }

        if (plain < 2)
        {
            return (false, null);
        }

        var all = new List<NewJob>(jobs);
        foreach (var op in batch)
        {
            if (op.PlainJobs is { } some)
            {
                all.AddRange(some);
            }
        }

        IReadOnlyList<EnqueueResult> results;
        try
        {
            results = await _insertPlain(connection, tx, all, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!TransientErrors.IsTransient(ex) && !token.IsCancellationRequested)
        {
            var first = batch.First(op => op.PlainJobs is not null);
            first.SetFailure(ex);
            return (false, first);
        }

        Interlocked.Add(ref _mergedEnqueues, plain);
        var array = results as EnqueueResult[] ?? [.. results];
        var offset = 0;
        foreach (var op in batch)
        {
            if (op.PlainJobs is { } some)
            {
                op.SetMerged(new ArraySegment<EnqueueResult>(array, offset, some.Count));
                offset += some.Count;
            }
        }

        return (true, null);
    }

    /// <summary>Runs each operation inside its own savepoint, so a failing one is rolled back alone and its neighbours still commit.</summary>
    private static async Task RunIsolatedAsync(List<WriteOperation> batch, NpgsqlTransaction tx, NpgsqlConnection connection, CancellationToken token)
    {
        foreach (var op in batch)
        {
            op.Reset();
            await tx.SaveAsync("op", token).ConfigureAwait(false);
            try
            {
                await op.RunAsync(connection, tx, token).ConfigureAwait(false);
                await tx.ReleaseAsync("op", token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!TransientErrors.IsTransient(ex) && !token.IsCancellationRequested)
            {
                op.SetFailure(ex);
                await tx.RollbackAsync("op", token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The writer keeps one connection across batches: returning it to the pool after every batch costs a session reset
    /// and loses its prepared statements. A failed batch drops it, so the next batch starts on a fresh one.
    /// </summary>
    private async Task<NpgsqlConnection> ConnectionAsync(CancellationToken token)
    {
        if (_connection is { State: System.Data.ConnectionState.Open } open)
        {
            return open;
        }

        await DropConnectionAsync().ConfigureAwait(false);
        _connection = await _dataSource.OpenConnectionAsync(token).ConfigureAwait(false);
        return _connection;
    }

    private async Task DropConnectionAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            try
            {
                // The loop still owns the connection until it sees the cancellation.
                await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }

        await DropConnectionAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
