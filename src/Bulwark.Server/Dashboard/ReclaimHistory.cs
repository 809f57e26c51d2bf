using System.Diagnostics.Metrics;
using Bulwark.Diagnostics;

namespace Bulwark.Server.Dashboard;

/// <summary>
/// Stalled and recovered jobs reclaimed by this process (maintenance, start-up recovery, "reclaim now") in the last hour,
/// heard from the Bulwark meter. Reclaims done by other processes show in their own dashboards and metrics.
/// </summary>
internal sealed class ReclaimHistory : IDisposable
{
    private const string Stalled = "bulwark.stalled_jobs.reclaimed";
    private const string Recovery = "bulwark.recovery_jobs.reclaimed";

    private readonly TimeProvider _time;
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Queue<(DateTimeOffset At, long Count)> _events = new();

    public ReclaimHistory(TimeProvider time)
    {
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Telemetry.MeterName && instrument.Name is Stalled or Recovery)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Record(value));
        _listener.Start();
    }

    public long LastHour()
    {
        var since = _time.GetUtcNow() - TimeSpan.FromHours(1);
        lock (_lock)
        {
            while (_events.Count > 0 && _events.Peek().At < since)
            {
                _events.Dequeue();
            }

            return _events.Sum(e => e.Count);
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Record(long count)
    {
        lock (_lock)
        {
            _events.Enqueue((_time.GetUtcNow(), count));
            if (_events.Count > 10_000)
            {
                _events.Dequeue();
            }
        }
    }
}
