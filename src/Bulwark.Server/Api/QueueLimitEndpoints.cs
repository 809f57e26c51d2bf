using System.Text.Json;
using Bulwark.Jobs;
using Microsoft.AspNetCore.Mvc;

namespace Bulwark.Server.Api;

/// <summary><c>PUT /queues/{queue}/limits</c>: fleet-wide rate and concurrency caps, kept and enforced by the store.</summary>
internal static class QueueLimitEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPut("/queues/{queue}/limits", PutAsync)
            .WithSummary("Set the queue's rate_limit (jobs/s) and concurrency_limit (running at once) across all workers; a field left out is kept, null clears it.");
    }

    private static async Task<IResult> PutAsync(
        HttpContext http, string queue, [FromServices] AdminActions admin, [FromServices] BulwarkServerOptions options, CancellationToken cancellationToken)
    {
        ApiInput.Queue(queue);
        using var body = await ApiInput.JsonBodyAsync(http.Request, options.MaxRequestBytes, cancellationToken);
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.EnumerateObject().Any())
        {
            throw new JobValidationException("limits", "Send {\"rate_limit\": 10, \"concurrency_limit\": 5}: either field or both (null clears one).");
        }

        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not ("rate_limit" or "concurrency_limit"))
            {
                throw new JobValidationException(property.Name, $"Unknown field \"{property.Name}\"; a queue's limits are rate_limit (jobs per second) and concurrency_limit (running jobs at once).");
            }
        }

        // Each field given replaces the stored one (null clears it); a field left out is kept.
        var rateGiven = root.TryGetProperty("rate_limit", out var rate);
        var rateLimit = !rateGiven ? null : rate.ValueKind switch
        {
            JsonValueKind.Null => (double?)null,
            JsonValueKind.Number => rate.GetDouble(),
            _ => throw new JobValidationException("rate_limit", $"\"rate_limit\" must be a number of jobs per second (such as 5 or 0.5), or null to clear it; not {rate.GetRawText()}."),
        };
        var concurrencyGiven = root.TryGetProperty("concurrency_limit", out var concurrency);
        var concurrencyLimit = !concurrencyGiven ? null : concurrency.ValueKind switch
        {
            JsonValueKind.Null => (int?)null,
            JsonValueKind.Number when concurrency.TryGetInt32(out var n) => n,
            _ => throw new JobValidationException("concurrency_limit", $"\"concurrency_limit\" must be a whole number of running jobs (such as 2), or null to clear it; not {concurrency.GetRawText()}."),
        };

        var limits = await admin.ChangeQueueLimitsAsync(queue, current => current with
        {
            RatePerSecond = rateGiven ? rateLimit : current.RatePerSecond,
            MaxRunning = concurrencyGiven ? concurrencyLimit : current.MaxRunning,
        }, cancellationToken);
        return Results.Json(new LimitsView(queue, limits.RatePerSecond, limits.MaxRunning), ApiJson.Options);
    }

    internal sealed record LimitsView(string Queue, double? RateLimit, int? ConcurrencyLimit);
}
