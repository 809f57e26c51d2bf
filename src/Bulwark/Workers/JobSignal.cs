namespace Bulwark.Workers;

/// <summary>
/// Wakes in-process workers the moment a job is enqueued, so they need not wait for their next poll.
/// One per host; the client notifies it, workers wait on it.
/// </summary>
public sealed class JobSignal
{
    private TaskCompletionSource _pulse = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Signals that work may be waiting in <paramref name="queue"/>.</summary>
    public void Notify(string queue)
    {
        _ = queue;
        Interlocked.Exchange(ref _pulse, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Completes at the next <see cref="Notify"/>, after <paramref name="timeout"/>, or on cancellation (without throwing).</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var pulse = Volatile.Read(ref _pulse).Task;
        try
        {
            await pulse.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
        }
    }
}
