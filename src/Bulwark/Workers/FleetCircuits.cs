using Bulwark.Diagnostics;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// The fleet's side of this worker's circuit breakers. At most once per poll interval it reads the breakers kept in the
/// store: types opened by hand there are left out of every lease of this worker until they are closed (so an operator's
/// open reaches the whole fleet within one poll, without a query per lease). On the same pass it reports this worker's
/// own open and half-open breakers, when they changed, so the fleet can see them. A failed read keeps the last known
/// breakers: a store hiccup neither releases a held type nor stops the worker.
/// </summary>
internal sealed class FleetCircuits(ICircuitBreakerStore store, string workerId, CircuitBreakers own, TimeSpan interval, TimeProvider time, BulwarkMetrics metrics, ILogger logger)
{
    private volatile IReadOnlyCollection<string> _openByHand = [];
    private Dictionary<string, CircuitBreakerRecord> _known = new(StringComparer.Ordinal);
    private (string, CircuitState, int)[] _reported = [];
    private long? _lastRefresh;

    /// <summary>Types opened by hand for the fleet, as last read.</summary>
    public IReadOnlyCollection<string> OpenByHand => _openByHand;

    /// <summary>Reads the fleet's breakers and reports this worker's, unless that was done less than a poll interval ago.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (_lastRefresh is { } last && time.GetElapsedTime(last) < interval)
        {
            return;
        }

        _lastRefresh = time.GetTimestamp();
        try
        {
            var mine = own.Automatic();
            var shape = mine.Select(b => (b.Type, b.State, b.ConsecutiveFailures)).ToArray();
            if (!shape.SequenceEqual(_reported))
            {
                await store.ReportCircuitsAsync(workerId, mine, cancellationToken);
                _reported = shape;
            }

            var byHand = (await store.ListCircuitsAsync(cancellationToken)).Where(b => b.Manual).ToDictionary(b => b.Type, StringComparer.Ordinal);
            Announce(byHand);
            _known = byHand;
            _openByHand = byHand.Keys.ToArray();
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.PersistenceError("circuits");
            WorkerLog.FleetCircuitsFailed(logger, ex);
        }
    }

    private void Announce(Dictionary<string, CircuitBreakerRecord> byHand)
    {
        foreach (var (type, b) in byHand)
        {
            if (!_known.ContainsKey(type))
            {
                metrics.SetCircuit(type, (int)CircuitState.Open);
                metrics.CircuitTransition(type, "open", byHand: true);
                WorkerLog.CircuitOpenedByHand(logger, type, "fleet-wide", b.Since);
            }
        }

        foreach (var type in _known.Keys.Where(t => !byHand.ContainsKey(t)))
        {
            metrics.SetCircuit(type, (int)own.GetState(type));
            metrics.CircuitTransition(type, "closed", byHand: true);
            WorkerLog.CircuitClosed(logger, type, "by hand, fleet-wide");
        }
    }
}
