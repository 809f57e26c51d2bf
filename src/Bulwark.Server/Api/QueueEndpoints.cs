using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Bulwark.Server.Api;

/// <summary><c>/queues</c>: counts, pause and resume, dead-letter retry, cleaning.</summary>
internal static class QueueEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/queues", ListAsync).WithSummary("Every queue with counts per state, depth and limits.");
        api.MapGet("/queues/{queue}", GetAsync).WithSummary("One queue, with its limits and policy.");
        api.MapPost("/queues/{queue}/pause", (string queue, AdminActions admin, CancellationToken ct) => SetPausedAsync(queue, true, admin, ct)).WithSummary("Stop workers taking the queue's jobs.");
        api.MapPost("/queues/{queue}/resume", (string queue, AdminActions admin, CancellationToken ct) => SetPausedAsync(queue, false, admin, ct)).WithSummary("Let workers take the queue's jobs again.");
        api.MapPost("/queues/{queue}/dead-letter/retry", RetryDeadLettersAsync).WithSummary("Move every dead letter of the queue back to ready.");
        api.MapDelete("/queues/{queue}/jobs", DeleteAsync).WithSummary("Delete the queue's jobs in a state (not running) older than olderThan (e.g. 7d).");
    }

    private static async Task<IResult> ListAsync([FromServices] IJobQuery query, [FromServices] IJobStore store, [FromServices] BulwarkServerOptions options, CancellationToken cancellationToken)
    {
        var queues = await query.GetQueuesAsync(cancellationToken);
        var limits = await store.GetQueueLimitsAsync(cancellationToken);
        var policies = await store.GetQueuePoliciesAsync(cancellationToken);
        return Results.Json(new { queues = queues.Select(q => QueueView.From(q, options, limits.GetValueOrDefault(q.Queue), policies.GetValueOrDefault(q.Queue))).ToArray() }, ApiJson.Options);
    }

    private static async Task<IResult> GetAsync(string queue, [FromServices] IJobQuery query, [FromServices] IJobStore store, [FromServices] BulwarkServerOptions options, CancellationToken cancellationToken)
    {
        ApiInput.Queue(queue);
        var limits = (await store.GetQueueLimitsAsync(cancellationToken)).GetValueOrDefault(queue);
        var policy = (await store.GetQueuePoliciesAsync(cancellationToken)).GetValueOrDefault(queue);
        var stats = (await query.GetQueuesAsync(cancellationToken)).FirstOrDefault(q => q.Queue == queue)
            // A queue with limits or a policy but no jobs yet is known: show them with zero counts.
            ?? (limits is null && policy is null ? null : new QueueStats { Queue = queue, Counts = JobStates.All.ToDictionary(s => s, _ => 0L) })
            ?? throw ApiProblemException.NotFound($"Queue '{queue}' has no jobs, no limits, no policy and was never paused, so it is not known. GET /queues lists the known queues.");
        return Results.Json(QueueView.From(stats, options, limits, policy), ApiJson.Options);
    }

    private static async Task<IResult> SetPausedAsync(string queue, bool paused, AdminActions admin, CancellationToken cancellationToken)
    {
        ApiInput.Queue(queue);
        await admin.SetPausedAsync(queue, paused, cancellationToken);
        return Results.Json(new { queue, paused }, ApiJson.Options);
    }

    private static async Task<IResult> RetryDeadLettersAsync(string queue, [FromServices] AdminActions admin, CancellationToken cancellationToken)
    {
        ApiInput.Queue(queue);
        var retried = await admin.RetryDeadLettersAsync(queue, cancellationToken);
        return Results.Json(new { queue, retried }, ApiJson.Options);
    }

    private static async Task<IResult> DeleteAsync(
        HttpContext http, string queue, [FromQuery] string? state, [FromServices] AdminActions admin, CancellationToken cancellationToken)
    {
        ApiInput.Queue(queue);
        if (string.IsNullOrEmpty(state))
        {
            throw ApiProblemException.BadRequest("Say which jobs to delete: ?state=completed (or failed, dead_letter, cancelled, ...), and optionally &olderThan=7d.");
        }

        var jobState = JobStates.Parse(state);
        if (jobState == JobState.Running)
        {
            throw ApiProblemException.BadRequest("Running jobs cannot be deleted; cancel them first (POST /jobs/{id}/cancel).");
        }

        var olderText = http.Request.Query["olderThan"].ToString() is { Length: > 0 } camel ? camel : http.Request.Query["older_than"].ToString();
        var olderThan = TimeSpan.Zero;
        if (olderText.Length > 0 && !DurationText.TryParse(olderText, out olderThan))
        {
            throw ApiProblemException.BadRequest($"olderThan={olderText} is not a duration; write it like 30m, 24h or 7d.");
        }

        var deleted = await admin.PurgeAsync(queue, jobState, olderThan, cancellationToken);
        return Results.Json(new { queue, state = jobState.ToName(), older_than = DurationText.Format(olderThan), deleted }, ApiJson.Options);
    }
}
