using Bulwark.Diagnostics;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// Funnels attempt outcomes into <see cref="IJobStore.FinishAsync"/> batches. Callers await their own fence result;
/// a failed write keeps its outcomes queued for the next pass (the leases stay held and renewed meanwhile).
/// </summary>
internal sealed class OutcomeCompleter(IJobStore store, int batchSize, BulwarkMetrics metrics, ILogger logger)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Pending> _pending = new();
    private TaskCompletionSource _available = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    public Task<FenceResult> SubmitAsync(JobOutcome outcome)
    {
        // Continuations run inline on the completer: what follows a write (metrics, freeing the lease) is short and never
        // blocks, and a thread-pool hop per outcome cost more CPU than the bookkeeping itself.
        var pending = new Pending(outcome, new TaskCompletionSource<FenceResult>());
        TaskCompletionSource available;
        lock (_lock)
        {
            _pending.AddLast(pending);
            available = _available;
        }

        available.TrySetResult();
        return pending.Result.Task;
    }

    /// <summary>Completes when outcomes are waiting (at once if some are).</summary>
    public Task WaitForOutcomesAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_pending.Count > 0)
            {
                return Task.CompletedTask;
            }

            if (_available.Task.IsCompleted)
            {
                _available = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return _available.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Writes one batch. Returns how many outcomes were written; throws nothing for a store failure (it is counted and retried).</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        List<Pending> batch;
        lock (_lock)
        {
            batch = _pending.Take(batchSize).ToList();
            for (var i = 0; i < batch.Count; i++)
            {
                _pending.RemoveFirst();
            }
        }

        if (batch.Count == 0)
        {
            return 0;
        }

        IReadOnlyList<FenceResult> results;
        try
        {
            results = await store.FinishAsync(batch.Select(p => p.Outcome).ToArray(), cancellationToken);
        }
        catch (Exception ex)
        {
            metrics.PersistenceError("finish");
            WorkerLog.FinishFailed(logger, ex, batch.Count);
            lock (_lock)
            {
                for (var i = batch.Count - 1; i >= 0; i--)
                {
                    _pending.AddFirst(batch[i]);
                }
            }

            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            return 0;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Result.TrySetResult(i < results.Count ? results[i] : FenceResult.NotFound);
        }

        return batch.Count;
    }

    /// <summary>Writes until nothing is waiting, or gives up after the store failed <paramref name="maxFailedPasses"/> times.</summary>
    public async Task FlushAsync(int maxFailedPasses, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (PendingCount > 0 && failures < maxFailedPasses)
        {
            if (await RunOnceAsync(cancellationToken) == 0)
            {
                failures++;
            }
        }
    }

    private sealed record Pending(JobOutcome Outcome, TaskCompletionSource<FenceResult> Result);
}
