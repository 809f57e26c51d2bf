using Bulwark.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Bulwark.Server.Api;

/// <summary><c>/queues/{queue}/policy</c>: the queue's defaults (attempts, backoff, timeout, retention), kept fleet-wide by the store.</summary>
internal static class QueuePolicyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/queues/{queue}/policy", GetAsync).WithSummary("The queue's stored policy: max_attempts, backoff, timeout, retention (fields it does not set are left out).");
        api.MapPut("/queues/{queue}/policy", PutAsync)
            .WithSummary("Set the queue's max_attempts, backoff, timeout and retention for jobs that do not set their own; a field left out is kept, null clears it.");
    }

    private static async Task<IResult> GetAsync(string queue, [FromServices] IJobStore store, CancellationToken cancellationToken)
    {
        ApiInput.Queue(queue);
        return Results.Json(QueuePolicyActions.View(queue, await QueuePolicyActions.GetAsync(store, queue, cancellationToken)), ApiJson.Options);
    }

    private static async Task<IResult> PutAsync(
        HttpContext http, string queue, [FromServices] AdminActions admin, [FromServices] BulwarkServerOptions options, CancellationToken cancellationToken)
    {
        ApiInput.Queue(queue);
        using var body = await ApiInput.JsonBodyAsync(http.Request, options.MaxRequestBytes, cancellationToken);
        var change = QueuePolicyActions.ReadChange(body.RootElement);
        var policy = await admin.ChangeQueuePolicyAsync(queue, change, cancellationToken);
        return Results.Json(QueuePolicyActions.View(queue, policy), ApiJson.Options);
    }
}
