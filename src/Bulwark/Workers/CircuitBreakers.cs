using Bulwark.Diagnostics;

namespace Bulwark.Workers;

/// <summary>
/// Per-type breakers. A type opens after <c>threshold</c> consecutive failures; after <c>reset</c> it half-opens and
/// lets exactly one trial job through; that trial's success closes it, its failure opens it again.
/// </summary>
internal sealed class CircuitBreakers(int threshold, TimeSpan reset, TimeProvider time, BulwarkMetrics metrics) : ICircuitBreakers
{
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
    }

    public void Close(string type)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        lock (_lock)
        {
            _breakers.Remove(type);
        }

        metrics.SetCircuit(type, (int)CircuitState.Closed);
    }

    /// <summary>Returns true when this failure opened a closed circuit.</summary>
    public bool RecordFailure(string type)
    {
        bool wasOpen, open;
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
                b.OpenedAt = time.GetTimestamp();
            }
        }

        if (open)
        {
            metrics.SetCircuit(type, (int)CircuitState.Open);
        }

        return open && !wasOpen;
    }

    public void RecordSuccess(string type)
    {
        bool existed;
        lock (_lock)
        {
            existed = _breakers.Remove(type);
        }

        if (existed)
        {
            metrics.SetCircuit(type, (int)CircuitState.Closed);
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
        lock (_lock)
        {
            foreach (var (type, b) in _breakers)
            {
                if (StateOf(b) == CircuitState.HalfOpen && !b.TrialInFlight)
                {
                    result.Add(type);
                }
            }
        }

        foreach (var type in result)
        {
            metrics.SetCircuit(type, (int)CircuitState.HalfOpen);
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
    }
}
