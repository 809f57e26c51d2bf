using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bulwark.Server.Health;

/// <summary>
/// Bulwark in ASP.NET Core's health-check system: unhealthy when the store does not answer in time or the storage
/// circuit is open; degraded when this process's worker stopped leasing (unregistered, store unreachable, draining,
/// or jammed by abandoned handlers). The data carries each part, so <c>/healthz</c> responses can show why.
/// </summary>
internal sealed class BulwarkHealthCheck(IServiceProvider services) : IHealthCheck
{
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(StoreTimeout);
            try
            {
                // A primary-key lookup of an id that does not exist: the cheapest question a store can answer.
                await services.GetRequiredService<IJobQuery>().GetJobAsync(long.MaxValue, timeout.Token);
                data["store"] = "answers";
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"The job store did not answer within {StoreTimeout.TotalSeconds:0} s.", data: data);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy($"The job store failed: {ex.GetType().Name}.", ex, data);
            }
        }

        if (services.GetService<StorageCircuit>() is { } circuit)
        {
            data["storage_circuit"] = circuit.State.ToString().ToLowerInvariant();
            if (circuit.State == StorageCircuitState.Open)
            {
                return HealthCheckResult.Unhealthy($"The storage circuit is open after repeated persistence errors ({circuit.LastError}); writes are refused.", data: data);
            }
        }

        if (services.GetService<WorkerRuntime>() is { } worker)
        {
            data["worker_ready"] = worker.IsReady;
            if (!worker.IsReady)
            {
                return HealthCheckResult.Degraded("This process's worker is not leasing jobs (starting, draining, store unreachable or too many abandoned handlers).", data: data);
            }
        }

        return HealthCheckResult.Healthy("Bulwark is ready.", data);
    }
}
