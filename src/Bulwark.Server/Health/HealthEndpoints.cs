using Bulwark.Server.Api;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Server.Health;

/// <summary><c>/health/live</c>, <c>/health/ready</c>, <c>/health/detailed</c>.</summary>
internal static class HealthEndpoints
{
    private static readonly TimeSpan StoreCheckTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Maps the probes; <paramref name="detailed"/> false leaves out <c>/detailed</c> (a worker's probe port has no API keys).</summary>
    public static void Map(IEndpointRouteBuilder endpoints, string prefix, bool detailed = true)
    {
        endpoints.MapGet($"{prefix}/live", () => Results.Json(new { status = "live" }, ApiJson.Options));
        endpoints.MapGet($"{prefix}/ready", ReadyAsync);
        if (detailed)
        {
            endpoints.MapGet($"{prefix}/detailed", DetailedAsync).AddEndpointFilter<Auth.ApiAccessFilter>();
        }
    }

    private static async Task<IResult> ReadyAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var checks = await CheckAsync(services, cancellationToken);
        var ready = checks.All(c => c.Value.Ok);
        return Results.Json(new { status = ready ? "ready" : "not_ready", checks = checks.ToDictionary(c => c.Key, c => c.Value) }, ApiJson.Options,
            statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> DetailedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var checks = await CheckAsync(services, cancellationToken);
        var query = services.GetRequiredService<IJobQuery>();
        var options = services.GetRequiredService<BulwarkServerOptions>();
        object? queues = null;
        object? workers = null;
        if (checks["store"].Ok)
        {
            try
            {
                queues = (await query.GetQueuesAsync(cancellationToken)).Select(q => QueueView.From(q, options)).ToArray();
                workers = (await query.ListWorkersAsync(cancellationToken)).Select(WorkerView.From).ToArray();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                queues = new { error = ex.GetType().Name };
            }
        }

        var breakers = services.GetService<ICircuitBreakers>();
        var storage = services.GetService<StorageCircuit>();
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
        var ready = checks.All(c => c.Value.Ok);
        return Results.Json(new
        {
            status = ready ? "ready" : "not_ready",
            version = typeof(HealthEndpoints).Assembly.GetName().Version?.ToString(3),
            checks = checks.ToDictionary(c => c.Key, c => c.Value),
            store = new { kind = StoreKind(services) },
            circuits = new
            {
                storage = storage is null ? null : new { state = storage.State.ToString().ToLowerInvariant(), consecutive_errors = storage.ConsecutiveErrors, last_error = storage.LastError, retry_after_seconds = Math.Ceiling(storage.RetryAfter.TotalSeconds) },
                types = breakers?.List().Select(b => new { type = b.Type, state = b.State.ToString().ToLowerInvariant(), consecutive_failures = b.ConsecutiveFailures, manual = b.Manual }).ToArray(),
            },
            queues,
            workers,
            config = new
            {
                urls = addresses,
                auth = new { read_keys = options.ReadKeys.Count, admin_keys = options.AdminKeys.Count },
                default_hard_limit = options.DefaultHardLimit,
                default_warning_depth = options.DefaultWarningDepth,
                queue_limits = options.Queues.ToDictionary(q => q.Key, q => new { hard_limit = options.HardLimitFor(q.Key), warning_depth = options.WarningDepthFor(q.Key) }),
                max_request_bytes = options.MaxRequestBytes,
                worker_dead_after = Jobs.DurationText.Format(options.WorkerDeadAfter),
            },
        }, ApiJson.Options, statusCode: StatusCodes.Status200OK);
    }

    private static async Task<Dictionary<string, Check>> CheckAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var checks = new Dictionary<string, Check>(StringComparer.Ordinal);
        var query = services.GetRequiredService<IJobQuery>();
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(StoreCheckTimeout);
            try
            {
                // A primary-key lookup of an id that does not exist: the cheapest question a store can answer.
                await query.GetJobAsync(long.MaxValue, timeout.Token);
                checks["store"] = new Check(true, "answers");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                checks["store"] = new Check(false, $"did not answer within {StoreCheckTimeout.TotalSeconds:0} s");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                checks["store"] = new Check(false, $"failed: {ex.GetType().Name}");
            }
        }

        if (services.GetService<CircuitBreakingJobStore>() is { } guarded)
        {
            var state = await guarded.ProbeAsync(cancellationToken);
            checks["storage_circuit"] = new Check(state == StorageCircuitState.Closed, state == StorageCircuitState.Closed
                ? "closed"
                : $"{state.ToString().ToLowerInvariant()} after repeated persistence errors ({guarded.Circuit.LastError}); writes are refused, next probe in {Math.Ceiling(guarded.Circuit.RetryAfter.TotalSeconds)} s");
        }

        var draining = services.GetService<ServerState>()?.Draining == true;
        checks["draining"] = new Check(!draining, draining ? "shutting down" : "not draining");
        return checks;
    }

    private static string StoreKind(IServiceProvider services)
    {
        var store = services.GetRequiredService<IJobQuery>();
        return store.GetType().Name;
    }

    internal sealed record Check(bool Ok, string Detail);
}
