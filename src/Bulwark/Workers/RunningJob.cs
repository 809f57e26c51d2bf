using Bulwark.Storage;

namespace Bulwark.Workers;

/// <summary>One leased job in a slot: its token source, why it was cancelled, and whether its outcome is settled.</summary>
internal sealed class RunningJob(LeasedJob job, CancellationTokenSource cancellation, long startedTimestamp, DateTimeOffset startedAt, bool isTrial) : IDisposable
{
    private int _reason;
    private int _settled;

    public LeasedJob Job { get; } = job;

    public long StartedTimestamp { get; } = startedTimestamp;

    public DateTimeOffset StartedAt { get; } = startedAt;

    /// <summary>The half-open circuit's trial job for its type.</summary>
    public bool IsTrial { get; } = isTrial;

    public CancellationToken Token => cancellation.Token;

    public Task Execution { get; set; } = Task.CompletedTask;

    public CancelReason Reason => (CancelReason)Volatile.Read(ref _reason);

    public bool IsSettled => Volatile.Read(ref _settled) == 1;

    /// <summary>When the supervisor first saw the token cancelled (the abandon grace runs from here).</summary>
    public long? CancelledTimestamp { get; set; }

    /// <summary>Records the first reason only (a timeout that is then lost stays a timeout), then cancels the token.</summary>
    public void Cancel(CancelReason reason)
    {
        Interlocked.CompareExchange(ref _reason, (int)reason, (int)CancelReason.None);
        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        catch (AggregateException)
        {
            // A handler's token callback threw; the handler owns that failure, the runtime carries on.
        }
    }

    /// <summary>Claims the right to record this attempt's outcome; exactly one of the handler and the supervisor wins.</summary>
    public bool TrySettle() => Interlocked.Exchange(ref _settled, 1) == 0;

    public void Dispose() => cancellation.Dispose();
}
