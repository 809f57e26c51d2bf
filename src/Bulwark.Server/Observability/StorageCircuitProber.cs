using Bulwark.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Observability;

/// <summary>
/// Probes an open storage circuit once a second after its reset time, so it closes by itself when the store recovers,
/// even with no traffic; logs each change of state.
/// </summary>
internal sealed class StorageCircuitProber(CircuitBreakingJobStore store, TimeProvider time, ILogger<StorageCircuitProber> logger) : BackgroundService
{
    private StorageCircuitState _last = StorageCircuitState.Closed;

    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var state = await store.ProbeAsync(cancellationToken);
        if (state != _last)
        {
            ServerLog.StorageCircuitState(logger, state.ToString().ToLowerInvariant());
            _last = state;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RunOnceAsync(stoppingToken);
        }
    }
}
