using Bulwark.Scheduling;
using Bulwark.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Bulwark.Server.Api;

/// <summary><c>/recurring</c>: cron definitions kept by the store and enqueued by every maintenance loop, once per tick.</summary>
internal static class RecurringEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/recurring", ListAsync).WithSummary("Every recurring (cron) job with its next and last tick.");
        api.MapPut("/recurring/{name}", PutAsync).WithSummary("Create or replace a recurring job ({\"cron\",\"time_zone\",\"queue\",\"type\",\"payload\",\"misfire\",...}).");
        api.MapDelete("/recurring/{name}", DeleteAsync).WithSummary("Remove a recurring job (jobs it already enqueued stay).");
    }

    private static async Task<IResult> ListAsync([FromServices] IJobStore store, CancellationToken cancellationToken)
    {
        var jobs = await store.ListRecurringAsync(cancellationToken);
        return Results.Json(new { recurring = jobs.Select(RecurringView.From).ToArray() }, ApiJson.Options);
    }

    private static async Task<IResult> PutAsync(
        HttpContext http, string name, [FromServices] IJobStore store, [FromServices] AdminActions admin, [FromServices] BulwarkServerOptions options, CancellationToken cancellationToken)
    {
        using var body = await ApiInput.JsonBodyAsync(http.Request, options.MaxRequestBytes, cancellationToken);
        var job = RecurringRequestReader.Read(name, body.RootElement);
        var existed = (await store.ListRecurringAsync(cancellationToken)).Any(r => r.Name == name);
        var stored = await admin.SetRecurringAsync(job, cancellationToken);
        return Results.Json(RecurringView.From(stored), ApiJson.Options, statusCode: existed ? StatusCodes.Status200OK : StatusCodes.Status201Created);
    }

    private static async Task<IResult> DeleteAsync(string name, [FromServices] AdminActions admin, CancellationToken cancellationToken)
    {
        RecurringJob.ValidateName(name);
        if (!await admin.RemoveRecurringAsync(name, cancellationToken))
        {
            throw ApiProblemException.NotFound($"There is no recurring job '{name}'. GET /recurring lists them.");
        }

        return Results.Json(new { name, removed = true }, ApiJson.Options);
    }
}
