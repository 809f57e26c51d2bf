using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.AspNetCore.Mvc;

namespace Bulwark.Server.Api;

/// <summary>Workers, stalled jobs, maintenance and per-type circuit breakers.</summary>
internal static class AdminEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/workers", ListWorkersAsync).WithSummary("Registered workers, newest heartbeat first.");
        api.MapGet("/stalled", ListStalledAsync).WithSummary("Running jobs whose lease expired: what the next reclaim takes back.");
        api.MapPost("/maintenance/reclaim-stalled", ReclaimAsync).WithSummary("Reclaim stalled jobs and declare silent workers dead, now.");
        api.MapGet("/circuit-breakers", ListBreakers).WithSummary("Per-type circuit breakers of this process's workers, and the storage circuit.");
        api.MapPost("/circuit-breakers/{type}/open", (string type, IServiceProvider services) => SetBreaker(type, open: true, services)).WithSummary("Stop leasing a job type until closed.");
        api.MapPost("/circuit-breakers/{type}/close", (string type, IServiceProvider services) => SetBreaker(type, open: false, services)).WithSummary("Lease a job type again.");
    }

    private static async Task<IResult> ListWorkersAsync([FromServices] IJobQuery query, CancellationToken cancellationToken)
    {
        var workers = await query.ListWorkersAsync(cancellationToken);
        return Results.Json(new { workers = workers.Select(WorkerView.From).ToArray() }, ApiJson.Options);
    }

    private static async Task<IResult> ListStalledAsync([FromQuery] string? limit, [FromServices] IJobQuery query, CancellationToken cancellationToken)
    {
        var jobs = await query.ListStalledAsync(ApiInput.Limit(limit, 100, JobListQuery.MaxLimit), cancellationToken);
        return Results.Json(new { jobs = jobs.Select(j => JobView.From(j, summary: true)).ToArray() }, ApiJson.Options);
    }

    private static async Task<IResult> ReclaimAsync([FromServices] IJobStore store, [FromServices] BulwarkServerOptions options, [FromServices] BulwarkMetrics metrics, CancellationToken cancellationToken)
    {
        var result = await store.ReclaimAsync(options.WorkerDeadAfter, cancellationToken);
        if (result.Total > 0)
        {
            metrics.StalledReclaimed(result.Total);
        }

        return Results.Json(new
        {
            reclaimed = result.Reclaimed,
            poisoned = result.Poisoned,
            cancelled = result.Cancelled,
            dead_workers = result.DeadWorkers,
            total = result.Total,
        }, ApiJson.Options);
    }

    private static IResult ListBreakers(IServiceProvider services)
    {
        var breakers = services.GetService(typeof(ICircuitBreakers)) as ICircuitBreakers;
        var storage = services.GetService(typeof(StorageCircuit)) as StorageCircuit;
        return Results.Json(new
        {
            types = breakers?.List().Select(b => new { type = b.Type, state = b.State.ToString().ToLowerInvariant(), consecutive_failures = b.ConsecutiveFailures, manual = b.Manual }).ToArray() ?? [],
            storage = storage is null ? null : new { state = storage.State.ToString().ToLowerInvariant(), consecutive_errors = storage.ConsecutiveErrors },
        }, ApiJson.Options);
    }

    private static IResult SetBreaker(string type, bool open, IServiceProvider services)
    {
        JobValidator.ValidateType(type);
        if (services.GetService(typeof(ICircuitBreakers)) is not ICircuitBreakers breakers)
        {
            throw ApiProblemException.Conflict("No worker runs in this server process, so it has no circuit breakers to set; run the command against the worker's host (bulwark serve runs demo workers unless --workers 0).");
        }

        if (open)
        {
            breakers.Open(type);
        }
        else
        {
            breakers.Close(type);
        }

        return Results.Json(new { type, state = breakers.GetState(type).ToString().ToLowerInvariant() }, ApiJson.Options);
    }
}
