using Bulwark.Server.Api;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Server.Health;

/// <summary>
/// <c>/health</c> (the same answer as <c>/health/ready</c>, for runbooks and load balancers that probe the bare path),
/// <c>/health/live</c>, <c>/health/ready</c>, <c>/health/detailed</c>.
/// </summary>
internal static class HealthEndpoints
{
    private static readonly TimeSpan StoreCheckTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Maps the probes. <paramref name="workerProbe"/>: a worker's own probe port, which has no API keys: its
    /// <c>/detailed</c> tells only this process's worker state (no configuration, no queue or job data).
    /// </summary>
    public static void Map(IEndpointRouteBuilder endpoints, string prefix, bool workerProbe = false)
    {
        endpoints.MapGet(prefix, ReadyAsync);
        endpoints.MapGet($"{prefix}/live", () => Results.Json(new { status = "live" }, ApiJson.Options));
        endpoints.MapGet($"{prefix}/ready", ReadyAsync);
        if (workerProbe)
        {
            endpoints.MapGet($"{prefix}/detailed", WorkerDetailedAsync);
        }
        else
        {
            endpoints.MapGet($"{prefix}/detailed", DetailedAsync).AddEndpointFilter<Auth.ApiKeyFilter>();
        }
    }

    private static async Task<IResult> ReadyAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var checks = await CheckAsync(services, cancellationToken);
        return Results.Json(new { status = Status(checks), checks = checks.ToDictionary(c => c.Key, c => c.Value) }, ApiJson.Options,
            statusCode: checks.All(c => c.Value.Ok) ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>A drain says so (<c>draining</c>, 503 until the process exits), so an orchestrator can tell it from a failure.</summary>
    private static string Status(Dictionary<string, Check> checks) =>
        checks.All(c => c.Value.Ok) ? "ready" : !checks["draining"].Ok ? "draining" : "not_ready";

    private static async Task<IResult> WorkerDetailedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var checks = await CheckAsync(services, cancellationToken);
        var runtime = services.GetService<WorkerRuntime>();
        var options = services.GetService<WorkerOptions>();
        var storage = services.GetService<StorageCircuit>();
        return Results.Json(new
        {
            status = Status(checks),
            version = typeof(HealthEndpoints).Assembly.GetName().Version?.ToString(3),
            checks = checks.ToDictionary(c => c.Key, c => c.Value),
            worker = runtime is null ? null : new
            {
                id = runtime.Id,
                name = runtime.Name,
                queues = options?.Queues.Count > 0 ? options.Queues.ToArray() : ["default"],
                concurrency = options?.Concurrency,
                active_jobs = runtime.ActiveJobs,
                finishing_jobs = runtime.FinishingJobs,
                abandoned_jobs = runtime.AbandonedJobs,
                draining = runtime.IsDraining,
                store_reachable = runtime.IsStoreReachable,
                memory_paused = runtime.IsOverMemoryLimit,
                memory_bytes = Environment.WorkingSet,
                memory_limit_bytes = options?.MemoryLimitBytes,
                heartbeats = runtime.Heartbeats,
                lease = options is null ? null : Jobs.DurationText.Format(options.LeaseDuration),
                heartbeat = options is null ? null : Jobs.DurationText.Format(options.HeartbeatInterval),
                shutdown_timeout = options is null ? null : Jobs.DurationText.Format(options.ShutdownTimeout),
            },
            circuits = new
            {
                storage = storage is null ? null : new { state = storage.State.ToString().ToLowerInvariant(), consecutive_errors = storage.ConsecutiveErrors, retry_after_seconds = Math.Ceiling(storage.RetryAfter.TotalSeconds) },
                types = runtime?.Circuits.List().Select(b => new { type = b.Type, state = b.State.ToString().ToLowerInvariant(), consecutive_failures = b.ConsecutiveFailures, manual = b.Manual }).ToArray(),
            },
        }, ApiJson.Options, statusCode: StatusCodes.Status200OK);
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

        var draining = services.GetService<ServerState>()?.Draining == true || services.GetService<WorkerRuntime>()?.IsDraining == true;
        checks["draining"] = new Check(!draining, draining ? "shutting down: finishing running jobs, leasing nothing" : "not draining");
        if (services.GetService<WorkerRuntime>() is { } worker)
        {
            // A worker paused at its memory soft limit takes no work: not ready, and it says why.
            var limit = services.GetService<WorkerOptions>()?.MemoryLimitBytes;
            checks["memory"] = new Check(!worker.IsOverMemoryLimit, worker.IsOverMemoryLimit
                ? $"leasing paused: working set {Environment.WorkingSet / (1024 * 1024)} MB is over the soft limit of {limit / (1024 * 1024)} MB"
                : limit is { } l ? $"working set {Environment.WorkingSet / (1024 * 1024)} MB, under the soft limit of {l / (1024 * 1024)} MB" : "no soft limit set");
        }

        return checks;
    }

    private static string StoreKind(IServiceProvider services)
    {
        var store = services.GetRequiredService<IJobQuery>();
        return store.GetType().Name;
    }

    internal sealed record Check(bool Ok, string Detail);
}
