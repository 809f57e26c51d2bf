using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;

namespace Bulwark.Testing;

public sealed partial class InMemoryJobStore
{
    // Keyed by (type, worker id); the worker id is "" for a breaker opened by hand, as in the durable stores' table.
    private readonly Dictionary<(string Type, string Worker), CircuitBreakerRecord> _circuits = [];

    /// <inheritdoc />
    public Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateType(type);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_circuits.TryGetValue((type, ""), out var record))
            {
                record = new CircuitBreakerRecord(type, CircuitState.Open, null, _time.GetUtcNow(), null, 0);
                _circuits[(type, "")] = record;
            }

            return Task.FromResult(record);
        }
    }

    /// <inheritdoc />
    public Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateType(type);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_circuits.Remove((type, "")));
        }
    }

    /// <inheritdoc />
    public Task ReportCircuitsAsync(string workerId, IReadOnlyList<CircuitBreakerRecord> breakers, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(breakers);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            foreach (var key in _circuits.Keys.Where(k => k.Worker == workerId).ToArray())
            {
                _circuits.Remove(key);
            }

            foreach (var b in breakers)
            {
                _circuits[(b.Type, workerId)] = b with { WorkerId = workerId };
            }

            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<CircuitBreakerRecord> list = _circuits
                .Where(kv => kv.Key.Worker.Length == 0 || (_workers.TryGetValue(kv.Key.Worker, out var w) && w.State is WorkerState.Active or WorkerState.Draining))
                .OrderBy(kv => kv.Key.Type, StringComparer.Ordinal).ThenBy(kv => kv.Key.Worker, StringComparer.Ordinal)
                .Select(kv => kv.Value).ToArray();
            return Task.FromResult(list);
        }
    }
}
