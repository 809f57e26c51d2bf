namespace Bulwark.Workers;

/// <summary>
/// Wakes in-process workers the moment a job is enqueued, so they need not wait for their next poll.
/// One per host; the client notifies it, workers wait on it.
/// </summary>
public sealed class JobSignal
{
    private TaskCompletionSource _pulse = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _version;

    /// <summary>Counts notifications: read it before a pass, and <see cref="WaitAsync(long, TimeSpan, TimeProvider, CancellationToken)"/> returns at once if one came since.</summary>
    internal long Version => Interlocked.Read(ref _version);

    /// <summary>Signals that work may be waiting in <paramref name="queue"/>.</summary>
    public void Notify(string queue)
    {
        _ = queue;
        // Counted before the pulse is swapped: a waiter that read the old pulse is woken by it, one that reads later sees the count.
        Interlocked.Increment(ref _version);
        Interlocked.Exchange(ref _pulse, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Completes at the next <see cref="Notify"/>, after <paramref name="timeout"/>, or on cancellation (without throwing).</summary>
    public Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) => WaitAsync(-1, timeout, time, cancellationToken);

    /// <summary>
    /// As <see cref="WaitAsync(TimeSpan, TimeProvider, CancellationToken)"/>, but returns at once when a notification came
    /// after <paramref name="since"/> (a <see cref="Version"/> read before the caller's pass), so a notification during the
    /// pass is never lost; -1 waits for the next one.
    /// </summary>
    internal async Task WaitAsync(long since, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var pulse = Volatile.Read(ref _pulse).Task;
        if (since >= 0 && Version != since)
        {
            return;
        }

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
