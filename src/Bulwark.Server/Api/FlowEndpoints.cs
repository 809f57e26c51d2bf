using System.Text.Json.Nodes;
using Bulwark.Client;
using Bulwark.Flows;
using Bulwark.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Bulwark.Server.Api;

/// <summary><c>/flows</c>: named jobs and their edges, enqueued in one atomic batch.</summary>
internal static class FlowEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/flows", SubmitAsync).WithSummary("Enqueue a flow ({\"nodes\":[{\"name\",\"type\",\"depends_on\":[names],...}]}) atomically; answers each node's job id by name.");
    }

    private static async Task<IResult> SubmitAsync(
        HttpContext http, [FromServices] JobClient client, [FromServices] QueueLimiter limiter, [FromServices] BulwarkServerOptions options, CancellationToken cancellationToken)
    {
        using var body = await ApiInput.JsonBodyAsync(http.Request, options.MaxRequestBytes, cancellationToken);
        var flow = FlowRequestReader.Read(body.RootElement);
        var (names, jobs) = client.BuildFlow(flow);

        var results = await LimitedEnqueue.EnqueueAsync(client, limiter, jobs, cancellationToken);

        // Node names are the caller's keys: built by hand so that the snake_case policy does not rename them.
        var ids = new JsonObject();
        var deduplicated = new JsonArray();
        for (var i = 0; i < names.Count; i++)
        {
            ids[names[i]] = results[i].Id;
            if (results[i].Deduplicated)
            {
                deduplicated.Add(names[i]);
            }
        }

        var status = results.Any(r => !r.Deduplicated) ? StatusCodes.Status201Created : StatusCodes.Status200OK;
        return Results.Json(new JsonObject { ["ids"] = ids, ["deduplicated"] = deduplicated }, ApiJson.Options, statusCode: status);
    }
}
