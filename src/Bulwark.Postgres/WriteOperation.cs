using Bulwark.Jobs;
using Bulwark.Storage;
using Npgsql;

namespace Bulwark.Postgres;

/// <summary>One caller's write, queued for the group-commit loop. Its body may run more than once (a transient error retries the batch), so it keeps no state between runs.</summary>
internal abstract class WriteOperation
{
    public abstract CancellationToken CallerToken { get; }

    /// <summary>Runs the body inside the batch transaction and keeps its result until the commit.</summary>
    public abstract Task RunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken);

    /// <summary>Records a failure of this operation alone (its savepoint was rolled back).</summary>
    public abstract void SetFailure(Exception exception);

    /// <summary>Forgets the result of a run whose transaction did not commit.</summary>
    public abstract void Reset();

    /// <summary>Completes the caller after the commit: its result, or its own failure.</summary>
    public abstract void Publish();

    /// <summary>Fails the caller (the batch could not commit).</summary>
    public abstract void Fail(Exception exception);

    public abstract bool TryCancel();

    /// <summary>
    /// The jobs of a plain enqueue (no keys, no dependencies), which the writer may insert together with the other plain
    /// enqueues of its batch in one statement; null for every other write.
    /// </summary>
    public virtual IReadOnlyList<NewJob>? PlainJobs => null;

    /// <summary>Takes this operation's slice of a merged insert as its result, as if its body had run.</summary>
    public virtual void SetMerged(ArraySegment<EnqueueResult> results) =>
        throw new InvalidOperationException("Only a plain enqueue can be merged.");
}

/// <summary>A write returning <typeparamref name="T"/>.</summary>
internal sealed class WriteOperation<T>(
    Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> body, CancellationToken callerToken, IReadOnlyList<NewJob>? plainJobs = null) : WriteOperation
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;
    private Exception? _failure;

    public Task<T> Task => _completion.Task;

    public override CancellationToken CallerToken => callerToken;

    public override async Task RunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        _result = await body(connection, transaction, cancellationToken);
        _failure = null;
    }

    public override void SetFailure(Exception exception) => _failure = exception;

    public override void Reset()
    {
        _result = default;
        _failure = null;
    }

    public override void Publish()
    {
        if (_failure is not null)
        {
            _completion.TrySetException(_failure);
        }
        else
        {
            _completion.TrySetResult(_result!);
        }
    }

    public override void Fail(Exception exception) => _completion.TrySetException(exception);

    public override bool TryCancel() => _completion.TrySetCanceled(callerToken);

    public override IReadOnlyList<NewJob>? PlainJobs => plainJobs;

    public override void SetMerged(ArraySegment<EnqueueResult> results)
    {
        if (plainJobs is null || results is not T result)
        {
            base.SetMerged(results);
            return;
        }

        _result = result;
        _failure = null;
    }
}
