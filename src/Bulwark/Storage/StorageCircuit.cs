using Bulwark.Diagnostics;

namespace Bulwark.Storage;

/// <summary>
/// Counts consecutive persistence errors; after <see cref="StorageCircuitOptions.FailureThreshold"/> of them it opens, so
/// writes are refused at once (nothing is half-written), readiness fails and leasing pauses. After the reset time it lets
/// one probe through: success closes it, failure opens it for another reset time. One per store, shared by the host.
/// </summary>
public sealed class StorageCircuit
{
    /// <summary>The circuit's name on the <c>bulwark_circuit_breaker_state</c> gauge.</summary>
    public const string MetricName = "storage";

    private readonly StorageCircuitOptions _options;
    private readonly TimeProvider _time;
    private readonly BulwarkMetrics? _metrics;
    private readonly Lock _gate = new();
    private StorageCircuitState _state = StorageCircuitState.Closed;
    private int _consecutiveErrors;
    private DateTimeOffset _openedAt;
    private bool _probeInFlight;
    private string? _lastError;

    /// <summary>Creates a closed circuit.</summary>
    public StorageCircuit(StorageCircuitOptions? options = null, TimeProvider? time = null, BulwarkMetrics? metrics = null)
    {
        _options = (options ?? new StorageCircuitOptions()).Validated();
        _time = time ?? TimeProvider.System;
        _metrics = metrics;
        _metrics?.SetCircuit(MetricName, (int)StorageCircuitState.Closed);
    }

    /// <summary>The current state; an open circuit whose reset time has passed reads as half-open.</summary>
    public StorageCircuitState State
    {
        get
        {
            lock (_gate)
            {
                return _state == StorageCircuitState.Open && _time.GetUtcNow() - _openedAt >= _options.ResetTimeout
                    ? StorageCircuitState.HalfOpen
                    : _state;
            }
        }
    }

    /// <summary>Consecutive errors seen since the last success.</summary>
    public int ConsecutiveErrors { get { lock (_gate) { return _consecutiveErrors; } } }

    /// <summary>The last error's type and message (never data), for health output.</summary>
    public string? LastError { get { lock (_gate) { return _lastError; } } }

    /// <summary>How long until the next probe may run (zero when closed or due).</summary>
    public TimeSpan RetryAfter
    {
        get
        {
            lock (_gate)
            {
                if (_state == StorageCircuitState.Closed)
                {
                    return TimeSpan.Zero;
                }

                var left = _options.ResetTimeout - (_time.GetUtcNow() - _openedAt);
                return left > TimeSpan.Zero ? left : TimeSpan.Zero;
            }
        }
    }

    /// <summary>
    /// Asks to run one store operation. True when it may go through; <paramref name="isProbe"/> is then true when it is the
    /// single probe of a half-open circuit. False while the circuit is open (or a probe is already out).
    /// </summary>
    public bool TryEnter(out bool isProbe)
    {
        isProbe = false;
        lock (_gate)
        {
            switch (_state)
            {
                case StorageCircuitState.Closed:
                    return true;
                case StorageCircuitState.Open when _time.GetUtcNow() - _openedAt >= _options.ResetTimeout:
                    _state = StorageCircuitState.HalfOpen;
                    _probeInFlight = true;
                    isProbe = true;
                    Publish();
                    return true;
                case StorageCircuitState.HalfOpen when !_probeInFlight:
                    _probeInFlight = true;
                    isProbe = true;
                    return true;
                default:
                    return false;
            }
        }
    }

    /// <summary>Records a successful store operation: the error run ends and a half-open circuit closes.</summary>
    public void RecordSuccess(bool isProbe = false)
    {
        lock (_gate)
        {
            _consecutiveErrors = 0;
            if (isProbe || _state == StorageCircuitState.HalfOpen)
            {
                _probeInFlight = false;
            }

            if (_state != StorageCircuitState.Closed)
            {
                _state = StorageCircuitState.Closed;
                _lastError = null;
                Publish();
            }
        }
    }

    /// <summary>Records a failed store operation (counted in <c>bulwark_persistence_errors_total</c>); may open the circuit.</summary>
    public void RecordFailure(string operation, Exception error, bool isProbe = false)
    {
        ArgumentNullException.ThrowIfNull(error);
        _metrics?.PersistenceError(operation);
        lock (_gate)
        {
            _consecutiveErrors++;
            _lastError = $"{operation}: {error.GetType().Name}";
            if (isProbe)
            {
                _probeInFlight = false;
            }

            if (isProbe || _state == StorageCircuitState.HalfOpen || _consecutiveErrors >= _options.FailureThreshold)
            {
                _state = StorageCircuitState.Open;
                _openedAt = _time.GetUtcNow();
                Publish();
            }
        }
    }

    /// <summary>Gives the probe slot back without a verdict (the probe was cancelled before the store answered).</summary>
    public void AbandonProbe()
    {
        lock (_gate)
        {
            _probeInFlight = false;
        }
    }

    /// <summary>An exception for a refused call.</summary>
    public StorageCircuitOpenException Refusal() => new(RetryAfter is var r && r > TimeSpan.Zero ? r : TimeSpan.FromSeconds(1), LastError);

    private void Publish() => _metrics?.SetCircuit(MetricName, (int)_state);
}
