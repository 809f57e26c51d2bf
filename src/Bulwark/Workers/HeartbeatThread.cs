namespace Bulwark.Workers;

/// <summary>
/// Beats on a dedicated thread, not the thread pool, so handlers that hog the CPU (or block pool threads) cannot starve
/// it. If it is starved anyway, fencing keeps every outcome single.
/// </summary>
internal sealed class HeartbeatThread(WorkerRuntime runtime, TimeProvider time, TimeSpan interval) : IDisposable
{
    private readonly AutoResetEvent _wake = new(false);
    private Thread? _thread;
    private ITimer? _timer;
    private long _last;
    private volatile bool _stopping;

    public void Start()
    {
        // The clock is read and the timer armed here, not on the new thread: a thread that starts late (a loaded
        // machine) would otherwise date its first interval from its own start and miss time that already passed.
        _last = time.GetTimestamp();
        // The provider's timer wakes the thread when a test advances a fake clock; the event's own timeout covers the
        // real clock even when the pool that runs timer callbacks is starved.
        _timer = time.CreateTimer(_ => Wake(), null, interval, interval);
        _thread = new Thread(Run) { IsBackground = true, Name = "bulwark-heartbeat", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    public void Stop()
    {
        _stopping = true;
        _wake.Set();
        _thread?.Join(TimeSpan.FromSeconds(10));
        _timer?.Dispose();
    }

    public void Dispose()
    {
        Stop();
        _wake.Dispose();
    }

    private void Run()
    {
        var last = _last;
        while (!_stopping)
        {
            var remaining = interval - time.GetElapsedTime(last);
            if (remaining > TimeSpan.Zero)
            {
                _wake.WaitOne(remaining > interval ? interval : remaining);
                continue;
            }

            last = time.GetTimestamp();
            // Blocking here is the point: this thread exists only to beat, independent of the pool.
            runtime.HeartbeatOnceAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Set();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
