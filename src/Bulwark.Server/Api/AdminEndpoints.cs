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
        api.MapGet("/circuit-breakers", ListBreakersAsync).WithSummary("The fleet's per-type circuit breakers (opened by hand, and each live worker's own), and this process's storage circuit.");
        api.MapPost("/circuit-breakers/{type}/open", OpenBreakerAsync).WithSummary("Stop every worker of the fleet leasing a job type (within one poll) until closed.");
        api.MapPost("/circuit-breakers/{type}/close", CloseBreakerAsync).WithSummary("Close a breaker opened by hand: the fleet leases the job type again within one poll.");
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

    private static async Task<IResult> ReclaimAsync([FromServices] AdminActions admin, CancellationToken cancellationToken)
    {
        var result = await admin.ReclaimStalledAsync(cancellationToken);
        return Results.Json(new
        {
            reclaimed = result.Reclaimed,
            poisoned = result.Poisoned,
            cancelled = result.Cancelled,
            dead_workers = result.DeadWorkers,
            total = result.Total,
        }, ApiJson.Options);
    }

    private static async Task<IResult> ListBreakersAsync([FromServices] IJobStore store, IServiceProvider services, CancellationToken cancellationToken)
    {
        var breakers = await store.ListCircuitsAsync(cancellationToken);
        var storage = services.GetService(typeof(StorageCircuit)) as StorageCircuit;
        return Results.Json(new
        {
            types = breakers.Select(CircuitBreakerActions.View).ToArray(),
            storage = storage is null ? null : new { state = storage.State.ToString().ToLowerInvariant(), consecutive_errors = storage.ConsecutiveErrors },
        }, ApiJson.Options);
    }

    private static async Task<IResult> OpenBreakerAsync(string type, [FromServices] AdminActions admin, CancellationToken cancellationToken)
    {
        var breaker = await admin.OpenCircuitAsync(type, cancellationToken);
        return Results.Json(CircuitBreakerActions.View(breaker), ApiJson.Options);
    }

    private static async Task<IResult> CloseBreakerAsync(string type, [FromServices] AdminActions admin, CancellationToken cancellationToken)
    {
        var wasOpen = await admin.CloseCircuitAsync(type, cancellationToken);
        return Results.Json(new { type, state = CircuitState.Closed.ToName(), was_open = wasOpen }, ApiJson.Options);
    }
}
