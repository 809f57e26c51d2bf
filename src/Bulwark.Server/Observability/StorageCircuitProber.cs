using Bulwark.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Observability;

/// <summary>
/// Probes an open storage circuit once a second after its reset time, so it closes by itself when the store recovers,
/// even with no traffic; logs each change of state.
/// </summary>
internal sealed class StorageCircuitProber(IServiceProvider services, TimeProvider time, ILogger<StorageCircuitProber> logger) : BackgroundService
{
    // Optional: without UseStorageCircuit there is nothing to probe.
    private readonly CircuitBreakingJobStore? _store = services.GetService(typeof(CircuitBreakingJobStore)) as CircuitBreakingJobStore;

    private StorageCircuitState _last = StorageCircuitState.Closed;

    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            return;
        }

        var state = await _store.ProbeAsync(cancellationToken);
        if (state != _last)
        {
            ServerLog.StorageCircuitState(logger, state.ToString().ToLowerInvariant());
            _last = state;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_store is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RunOnceAsync(stoppingToken);
        }
    }
}
