using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Bulwark.Postgres;

/// <summary>
/// Funnels a store's concurrent writes through one loop that commits many operations per transaction (a savepoint per
/// operation, so one refused operation does not sink its neighbours) and completes each caller only after COMMIT.
/// Durability stays per operation while the fsync cost is shared by the batch.
/// </summary>
internal sealed class GroupCommitWriter : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly int _maxBatch;
    private readonly int _retries;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<WriteOperation> _queue = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private long _commits;
    private long _committedOperations;

    public GroupCommitWriter(NpgsqlDataSource dataSource, int maxBatch, int retries, TimeProvider time, ILogger logger)
    {
        _dataSource = dataSource;
        _maxBatch = Math.Max(1, maxBatch);
        _retries = Math.Max(0, retries);
        _time = time;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Transactions committed so far, and the operations they carried (how well group commit is batching).</summary>
    public (long Commits, long Operations) Stats => (Interlocked.Read(ref _commits), Interlocked.Read(ref _committedOperations));

    public Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var op = new WriteOperation<T>(body, cancellationToken);
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
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(token).ConfigureAwait(false);
                await using var tx = await connection.BeginTransactionAsync(token).ConfigureAwait(false);
                var single = batch.Count == 1;
                foreach (var op in batch)
                {
                    op.Reset();
                    if (!single)
                    {
                        await tx.SaveAsync("op", token).ConfigureAwait(false);
                    }

                    try
                    {
                        await op.RunAsync(connection, tx, token).ConfigureAwait(false);
                        if (!single)
                        {
                            await tx.ReleaseAsync("op", token).ConfigureAwait(false);
                        }
                    }
                    catch (Exception ex) when (!TransientErrors.IsTransient(ex) && !token.IsCancellationRequested)
                    {
                        op.SetFailure(ex);
                        if (single)
                        {
                            await tx.RollbackAsync(token).ConfigureAwait(false);
                            op.Publish();
                            return;
                        }

                        await tx.RollbackAsync("op", token).ConfigureAwait(false);
                    }
                }

                await tx.CommitAsync(token).ConfigureAwait(false);
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
                PostgresLog.BatchFailed(_logger, ex, batch.Count);
                foreach (var op in batch)
                {
                    op.Fail(ex);
                }

                return;
            }
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
        }

        _stopping.Dispose();
    }
}
