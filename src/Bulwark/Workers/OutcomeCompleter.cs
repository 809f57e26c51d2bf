using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// Funnels attempt outcomes into <see cref="IJobStore.FinishAsync"/> batches. Callers await their own fence result;
/// a failed write keeps its outcomes queued for the next pass (the leases stay held and renewed meanwhile). At shutdown
/// <see cref="FlushAsync"/> writes, releases or logs every outcome still waiting within its budget.
/// </summary>
/// <remarks>
/// A failed batch halves the next one, and a success doubles it back, so an outcome the store refuses whatever happens
/// (a value it cannot hold) is soon written alone, while a store that is down costs no more than before. An outcome
/// refused alone goes to the back of the queue, so the others are written; refused alone three times after the store
/// took other writes, it is replaced by a failed attempt that says why, decided by the job's own policy (retried with
/// backoff, or dead-lettered on its last attempt), instead of blocking every outcome behind it (<see cref="Refused"/>).
/// A store that refuses everything (down) replaces nothing: no write succeeds meanwhile.
/// </remarks>
internal sealed class OutcomeCompleter(IJobStore store, int batchSize, BulwarkMetrics metrics, ILogger logger, Func<LeasedJob, JobError, JobOutcome>? decide = null)
{
    /// <summary>Lone refusals, after the store took another write, after which an outcome is deemed one it never takes.</summary>
    private const int RefusalsBeforeReplaced = 3;

    private readonly Lock _lock = new();
    private readonly LinkedList<Pending> _pending = new();
    private TaskCompletionSource _available = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _batchSize = batchSize;
    private int _limit = batchSize;
    private long _written;

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

    /// <summary>
    /// Queues <paramref name="outcome"/> of attempt <paramref name="attempt"/> (named in its release record should it have
    /// to be released at shutdown) of <paramref name="job"/> (whose policy decides what replaces an outcome never taken).
    /// </summary>
    public Task<FenceResult> SubmitAsync(JobOutcome outcome, int attempt = 0, LeasedJob? job = null)
    {
        // Continuations run inline on the completer: what follows a write (metrics, freeing the lease) is short and never
        // blocks, and a thread-pool hop per outcome cost more CPU than the bookkeeping itself.
        var pending = new Pending(outcome, attempt, new TaskCompletionSource<FenceResult>()) { Job = job, FirstFailureAfter = -1 };
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
            batch = _pending.Take(_limit).ToList();
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
            var canceled = ex is OperationCanceledException && cancellationToken.IsCancellationRequested;
            lock (_lock)
            {
                foreach (var failed in batch.Where(p => p.FirstFailureAfter < 0))
                {
                    failed.FirstFailureAfter = _written;
                }

                _limit = Math.Max(1, batch.Count / 2);
                if (batch.Count == 1 && !canceled)
                {
                    Refused(batch[0], ex);
                }
                else
                {
                    for (var i = batch.Count - 1; i >= 0; i--)
                    {
                        _pending.AddFirst(batch[i]);
                    }
                }
            }

            if (canceled)
            {
                throw;
            }

            return 0;
        }

        lock (_lock)
        {
            _limit = Math.Min(_batchSize, _limit * 2);
            _written++;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Result.TrySetResult(i < results.Count ? results[i] : FenceResult.NotFound);
        }

        return batch.Count;
    }

    /// <summary>
    /// An outcome refused when written alone (under the lock): back of the queue, so the others go first. Refused alone
    /// again and again after the store took other writes, it cannot be the store's state: the attempt is recorded as
    /// failed instead, naming the store's error, as the job's policy decides (the lease is still held, so the
    /// replacement is fenced like the original).
    /// </summary>
    private void Refused(Pending pending, Exception error)
    {
        if (_written > pending.FirstFailureAfter)
        {
            pending.Refusals++;
        }

        if (pending.Refusals >= RefusalsBeforeReplaced && pending.Job is { } job && decide is not null)
        {
            var original = pending.Outcome;
            var failure = new JobError(pending.Attempt, original.Error?.WorkerId, original.Error?.StartedAt, TimeProvider.System.GetUtcNow(), FailureCategory.System,
                $"The store refused this attempt's {original.Kind} outcome each time it was written alone, while it took other writes ({error.Message}); recorded as a failed attempt instead. Look at what the handler returned or threw.");
            WorkerLog.OutcomeReplaced(logger, error, original.Token.JobId, original.Kind);
            _pending.AddLast(pending with { Outcome = decide(job, failure), Refusals = 0, FirstFailureAfter = -1, Job = null });
            return;
        }

        _pending.AddLast(pending);
    }

    /// <summary>
    /// The last writes of a drain, bounded by <paramref name="budget"/> (real time: it measures the store, not a job):
    /// writes what is waiting, pausing <paramref name="pause"/> after a failed pass, until nothing is or three quarters
    /// of the budget are spent. Each outcome still waiting then is written alone, and if that fails too its lease is
    /// released instead (the job is ready for another worker at once, attempt not charged). Every outcome left at that
    /// point is logged with what became of it — written, released, or neither (then its lease lapses and maintenance
    /// reclaims it) — so none leaves the process unaccounted for.
    /// </summary>
    public async Task<ShutdownFlush> FlushAsync(TimeSpan budget, TimeSpan pause)
    {
        var clock = TimeProvider.System;
        var started = clock.GetTimestamp();
        using (var batches = new CancellationTokenSource(budget * 3 / 4, clock))
        {
            try
            {
                while (PendingCount > 0)
                {
                    if (await RunOnceAsync(batches.Token) == 0 && PendingCount > 0)
                    {
                        await Task.Delay(pause, clock, batches.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (batches.IsCancellationRequested)
            {
                // Three quarters of the budget gone: what is left is handled one by one below.
            }
        }

        List<Pending> left;
        lock (_lock)
        {
            left = [.. _pending];
            _pending.Clear();
        }

        var flush = new ShutdownFlush(0, 0, 0);
        using var last = new CancellationTokenSource(budget - clock.GetElapsedTime(started) is var rest && rest > TimeSpan.Zero ? rest : TimeSpan.Zero, clock);
        foreach (var pending in left)
        {
            flush = await SettleAsync(pending, last.Token, flush);
        }

        if (left.Count > 0)
        {
            WorkerLog.ShutdownFlushed(logger, left.Count, flush.Written, flush.Released, flush.Unwritten);
        }

        return flush;
    }

    /// <summary>One outcome left at the deadline: alone, then as a release; whatever happens is logged and its caller freed.</summary>
    private async Task<ShutdownFlush> SettleAsync(Pending pending, CancellationToken deadline, ShutdownFlush flush)
    {
        var outcome = pending.Outcome;
        Exception? error = null;
        try
        {
            var fence = (await store.FinishAsync([outcome], deadline))[0];
            pending.Result.TrySetResult(fence);
            WorkerLog.WrittenAtShutdown(logger, outcome.Token.JobId, outcome.Kind, fence);
            return flush with { Written = flush.Written + 1 };
        }
        catch (Exception ex)
        {
            metrics.PersistenceError("finish");
            error = ex;
        }

        if (outcome.Kind != OutcomeKind.Release)
        {
            try
            {
                var release = JobOutcome.Release(outcome.Token, new JobError(pending.Attempt, outcome.Error?.WorkerId, outcome.Error?.StartedAt, TimeProvider.System.GetUtcNow(), FailureCategory.Shutdown,
                    $"Its worker shut down before it could write the attempt's {outcome.Kind} outcome ({error.Message}); released without charging the attempt, so it runs again."));
                var fence = (await store.FinishAsync([release], deadline))[0];
                pending.Result.TrySetCanceled(CancellationToken.None);
                WorkerLog.ReleasedAtShutdown(logger, error, outcome.Token.JobId, outcome.Kind, fence);
                return flush with { Released = flush.Released + 1 };
            }
            catch (Exception ex)
            {
                metrics.PersistenceError("finish");
                error = ex;
            }
        }

        pending.Result.TrySetCanceled(CancellationToken.None);
        WorkerLog.UnwrittenAtShutdown(logger, error, outcome.Token.JobId, outcome.Kind);
        return flush with { Unwritten = flush.Unwritten + 1 };
    }

    private sealed record Pending(JobOutcome Outcome, int Attempt, TaskCompletionSource<FenceResult> Result)
    {
        /// <summary>The job, when known: its policy decides what replaces an outcome the store never takes.</summary>
        public LeasedJob? Job { get; init; }

        /// <summary>Lone refusals that came after the store had taken another write.</summary>
        public int Refusals { get; set; }

        /// <summary>Successful writes counted when this outcome first failed; -1 before.</summary>
        public long FirstFailureAfter { get; set; }
    }
}

/// <summary>What became of the outcomes left when a drain's last flush ran out of batch time: written alone, released instead, or neither.</summary>
internal readonly record struct ShutdownFlush(int Written, int Released, int Unwritten);
