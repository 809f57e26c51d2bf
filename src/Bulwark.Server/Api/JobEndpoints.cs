using System.Diagnostics;
using Bulwark.Client;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Bulwark.Server.Api;

/// <summary><c>/jobs</c>: enqueue, read, list, cancel, retry, explain.</summary>
internal static class JobEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/jobs", EnqueueAsync).WithSummary("Enqueue one job, or a batch atomically ({\"jobs\": [...]}).");
        api.MapGet("/jobs", ListAsync).WithSummary("List jobs newest first; filter by queue and state; keyset-paged by cursor.");
        api.MapGet("/jobs/{id}", GetAsync).WithSummary("One job with payload, result and errors.");
        api.MapPost("/jobs/{id}/cancel", CancelAsync).WithSummary("Cancel a waiting job, or ask a running one to stop.");
        api.MapPost("/jobs/{id}/retry", RetryAsync).WithSummary("Run a failed, dead-lettered or cancelled job again.");
        api.MapGet("/jobs/{id}/explain", ExplainAsync).WithSummary("Why the job is not running now.");
    }

    private static async Task<IResult> EnqueueAsync(
        HttpContext http, [FromServices] JobClient client, [FromServices] QueueLimiter limiter, [FromServices] BulwarkServerOptions options, CancellationToken cancellationToken)
    {
        using var body = await ApiInput.JsonBodyAsync(http.Request, options.MaxRequestBytes, cancellationToken);
        var batch = body.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && body.RootElement.TryGetProperty("jobs", out _);
        var traceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : TraceParentHeader(http);
        var jobs = EnqueueRequestReader.Read(body.RootElement, client, traceParent);
        JobValidator.ValidateBatch(jobs);

        var results = await LimitedEnqueue.EnqueueAsync(client, limiter, jobs, cancellationToken);

        var status = results.Any(r => !r.Deduplicated) ? StatusCodes.Status201Created : StatusCodes.Status200OK;
        var views = results.Select(r => new { id = r.Id, deduplicated = r.Deduplicated }).ToArray();
        if (!batch)
        {
            http.Response.Headers.Location = $"{http.Request.PathBase}{http.Request.Path}/{results[0].Id}";
            return Results.Json(views[0], ApiJson.Options, statusCode: status);
        }

        return Results.Json(new { jobs = views }, ApiJson.Options, statusCode: status);
    }

    private static async Task<IResult> GetAsync(string id, [FromServices] IJobQuery query, CancellationToken cancellationToken)
    {
        var job = await FindAsync(query, ApiInput.JobId(id), cancellationToken);
        return Results.Json(JobView.From(job), ApiJson.Options);
    }

    private static async Task<IResult> ListAsync(
        [FromQuery] string? queue, [FromQuery] string? state, [FromQuery] string? cursor, [FromQuery] string? limit,
        [FromServices] JobClient client, CancellationToken cancellationToken)
    {
        var request = new JobListQuery(
            queue is null ? null : ApiInput.Queue(queue),
            ApiInput.State(state),
            ApiInput.Cursor(cursor),
            ApiInput.Limit(limit, 50, JobListQuery.MaxLimit));
        var page = await client.ListAsync(request, cancellationToken);
        return Results.Json(new
        {
            items = page.Items.Select(j => JobView.From(j, summary: true)).ToArray(),
            next_cursor = page.NextCursor?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, ApiJson.Options);
    }

    private static async Task<IResult> CancelAsync(string id, [FromServices] AdminActions admin, CancellationToken cancellationToken)
    {
        var jobId = ApiInput.JobId(id);
        return await admin.CancelAsync(jobId, cancellationToken) switch
        {
            CancelResult.Cancelled => Results.Json(new { id = jobId, result = "cancelled" }, ApiJson.Options),
            CancelResult.CancellationRequested => Results.Json(new { id = jobId, result = "cancellation_requested" }, ApiJson.Options, statusCode: StatusCodes.Status202Accepted),
            CancelResult.AlreadyFinished => throw ApiProblemException.Conflict($"Job {jobId} already finished; there is nothing to cancel. GET /jobs/{jobId} shows how it ended."),
            _ => throw NoSuchJob(jobId),
        };
    }

    private static async Task<IResult> RetryAsync(string id, [FromServices] AdminActions admin, [FromServices] IJobQuery query, CancellationToken cancellationToken)
    {
        var jobId = ApiInput.JobId(id);
        switch (await admin.RetryAsync(jobId, cancellationToken))
        {
            case AdminResult.Ok:
                // ready, or pending while a job it depends on is live again (it runs once that completes).
                var retried = await query.GetJobAsync(jobId, cancellationToken);
                return Results.Json(new { id = jobId, result = "retried", state = retried?.State.ToName() }, ApiJson.Options);
            case AdminResult.InvalidState:
                var job = await query.GetJobAsync(jobId, cancellationToken);
                throw ApiProblemException.Conflict($"Job {jobId} is {job?.State.ToName() ?? "gone"}; only failed, dead_letter and cancelled jobs can be retried.");
            default:
                throw NoSuchJob(jobId);
        }
    }

    private static async Task<IResult> ExplainAsync(string id, [FromServices] IJobQuery query, [FromServices] IJobStore store, [FromServices] TimeProvider time, IServiceProvider services, CancellationToken cancellationToken)
    {
        var job = await FindAsync(query, ApiInput.JobId(id), cancellationToken);
        var explanation = await JobExplainer.ExplainAsync(job, store, query, time, services, cancellationToken);
        return Results.Json(explanation, ApiJson.Options);
    }

    private static async Task<JobSnapshot> FindAsync(IJobQuery query, long id, CancellationToken cancellationToken) =>
        await query.GetJobAsync(id, cancellationToken) ?? throw NoSuchJob(id);

    private static ApiProblemException NoSuchJob(long id) =>
        ApiProblemException.NotFound($"There is no job {id}; it never existed or was purged by retention. GET /jobs lists the jobs there are.");

    private static string? TraceParentHeader(HttpContext http) =>
        http.Request.Headers.TryGetValue("traceparent", out var value) && value.ToString() is { Length: > 0 and <= 512 } header ? header : null;
}
