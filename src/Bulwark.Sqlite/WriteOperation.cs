namespace Bulwark.Sqlite;

/// <summary>One caller's queued write: run inside the batch transaction, completed only after the commit.</summary>
internal abstract class WriteOperation
{
    internal abstract bool TryCancelIfRequested();

    internal abstract void Run(WriteContext context);

    internal abstract void Fail(Exception error);

    internal abstract void Complete();
}

/// <summary>A write returning <typeparamref name="T"/>.</summary>
internal sealed class WriteOperation<T>(Func<WriteContext, T> work, CancellationToken cancellationToken) : WriteOperation
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;
    private Exception? _error;

    internal Task<T> Task => _completion.Task;

    internal override bool TryCancelIfRequested()
    {
        if (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        _completion.TrySetCanceled(cancellationToken);
        return true;
    }

    internal override void Run(WriteContext context)
    {
        _error = null;
        _result = work(context);
    }

    internal override void Fail(Exception error) => _error ??= error;

    internal override void Complete()
    {
        if (_error is not null)
        {
            _completion.TrySetException(_error);
        }
        else
        {
            _completion.TrySetResult(_result!);
        }
    }
}
