using Bulwark.Diagnostics;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Workers;

/// <summary>
/// Per-type breakers. A type opens after <c>threshold</c> consecutive failures; after <c>reset</c> it half-opens and
/// lets exactly one trial job through; that trial's success closes it, its failure opens it again. Every transition is
/// counted (<c>bulwark_circuit_breaker_transitions_total</c>); all but the first opening (logged by the recorder) are logged here.
/// These are this worker's own breakers; the fleet's hand-opened ones are <see cref="FleetCircuits"/>.
/// </summary>
internal sealed class CircuitBreakers(int threshold, TimeSpan reset, TimeProvider time, BulwarkMetrics metrics, ILogger? logger = null) : ICircuitBreakers
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Breaker> _breakers = new(StringComparer.Ordinal);

    public IReadOnlyList<CircuitBreakerStatus> List()
    {
        lock (_lock)
        {
            return _breakers.Select(kv => new CircuitBreakerStatus(kv.Key, StateOf(kv.Value), kv.Value.Failures, kv.Value.Manual))
                .OrderBy(s => s.Type, StringComparer.Ordinal).ToArray();
        }
    }

    public CircuitState GetState(string type)
    {
        lock (_lock)
        {
            return _breakers.TryGetValue(type, out var b) ? StateOf(b) : CircuitState.Closed;
        }
    }

    public void Open(string type)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        lock (_lock)
        {
            var b = Get(type);
            b.OpenedAt = time.GetTimestamp();
            b.Manual = true;
            b.TrialInFlight = false;
        }

        metrics.SetCircuit(type, (int)CircuitState.Open);
        metrics.CircuitTransition(type, "open", byHand: true);
        WorkerLog.CircuitOpenedByHand(_logger, type, "this worker", time.GetUtcNow());
    }

    public void Close(string type)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        bool existed;
        lock (_lock)
        {
            existed = _breakers.Remove(type, out var b) && b.OpenedAt is not null;
        }

        metrics.SetCircuit(type, (int)CircuitState.Closed);
        if (existed)
        {
            metrics.CircuitTransition(type, "closed", byHand: true);
            WorkerLog.CircuitClosed(_logger, type, "by hand");
        }
    }

    /// <summary>Returns true when this failure opened a closed circuit.</summary>
    public bool RecordFailure(string type)
    {
        bool wasOpen, open, reopened = false;
        lock (_lock)
        {
            var b = Get(type);
            wasOpen = b.OpenedAt is not null;
            b.Failures++;
            b.TrialInFlight = false;
            open = wasOpen || b.Failures >= threshold;
            if (open && !b.Manual)
            {
                // A failed half-open trial restarts the reset clock.
                reopened = b.AnnouncedHalfOpen;
                b.AnnouncedHalfOpen = false;
                b.OpenedAt = time.GetTimestamp();
            }
        }

        if (open)
        {
            metrics.SetCircuit(type, (int)CircuitState.Open);
        }

        if (open && !wasOpen || reopened)
        {
            metrics.CircuitTransition(type, "open", byHand: false);
        }

        if (reopened)
        {
            WorkerLog.CircuitReopened(_logger, type);
        }

        return open && !wasOpen;
    }

    public void RecordSuccess(string type)
    {
        bool existed, wasOpen;
        lock (_lock)
        {
            existed = _breakers.Remove(type, out var b);
            wasOpen = existed && b!.OpenedAt is not null;
        }

        if (existed)
        {
            metrics.SetCircuit(type, (int)CircuitState.Closed);
        }

        if (wasOpen)
        {
            metrics.CircuitTransition(type, "closed", byHand: false);
            WorkerLog.CircuitClosed(_logger, type, "its trial job succeeded");
        }
    }

    /// <summary>A trial job that ended without a verdict (released, cancelled) gives its trial back.</summary>
    public void RecordNeutral(string type)
    {
        lock (_lock)
        {
            if (_breakers.TryGetValue(type, out var b))
            {
                b.TrialInFlight = false;
            }
        }
    }

    /// <summary>Types not to lease now: open ones, and half-open ones whose trial is running or about to be chosen.</summary>
    public IReadOnlyCollection<string> Excluded()
    {
        lock (_lock)
        {
            return _breakers.Where(kv => kv.Value.OpenedAt is not null).Select(kv => kv.Key).ToArray();
        }
    }

    /// <summary>Half-open types waiting for a trial job.</summary>
    public IReadOnlyCollection<string> AwaitingTrial()
    {
        var result = new List<string>();
        var entered = new List<string>();
        lock (_lock)
        {
            foreach (var (type, b) in _breakers)
            {
                if (StateOf(b) == CircuitState.HalfOpen && !b.TrialInFlight)
                {
                    result.Add(type);
                    if (!b.AnnouncedHalfOpen)
                    {
                        // Half-open is a matter of time, noticed here: announce it once per opening.
                        b.AnnouncedHalfOpen = true;
                        entered.Add(type);
                    }
                }
            }
        }

        foreach (var type in result)
        {
            metrics.SetCircuit(type, (int)CircuitState.HalfOpen);
        }

        foreach (var type in entered)
        {
            metrics.CircuitTransition(type, "half_open", byHand: false);
            WorkerLog.CircuitHalfOpen(_logger, type, reset);
        }

        return result;
    }

    /// <summary>Marks a leased job of a half-open type as its one trial; false when the trial slot was taken.</summary>
    public bool TryStartTrial(string type)
    {
        lock (_lock)
        {
            if (_breakers.TryGetValue(type, out var b) && StateOf(b) == CircuitState.HalfOpen && !b.TrialInFlight)
            {
                b.TrialInFlight = true;
                return true;
            }

            return false;
        }
    }

    /// <summary>The open and half-open breakers this worker's own failures tripped, as reported to the fleet.</summary>
    public IReadOnlyList<CircuitBreakerRecord> Automatic()
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            return _breakers
                .Where(kv => kv.Value is { Manual: false, OpenedAt: not null })
                .Select(kv =>
                {
                    var since = now - time.GetElapsedTime(kv.Value.OpenedAt!.Value);
                    return new CircuitBreakerRecord(kv.Key, StateOf(kv.Value), null, since, since + reset, kv.Value.Failures);
                })
                .OrderBy(b => b.Type, StringComparer.Ordinal).ToArray();
        }
    }

    private Breaker Get(string type)
    {
        if (!_breakers.TryGetValue(type, out var b))
        {
            b = new Breaker();
            _breakers[type] = b;
        }

        return b;
    }

    private CircuitState StateOf(Breaker b)
    {
        if (b.OpenedAt is not { } opened)
        {
            return CircuitState.Closed;
        }

        return !b.Manual && time.GetElapsedTime(opened) >= reset ? CircuitState.HalfOpen : CircuitState.Open;
    }

    private sealed class Breaker
    {
        public int Failures { get; set; }
        public long? OpenedAt { get; set; }
        public bool Manual { get; set; }
        public bool TrialInFlight { get; set; }
        public bool AnnouncedHalfOpen { get; set; }
    }
}
