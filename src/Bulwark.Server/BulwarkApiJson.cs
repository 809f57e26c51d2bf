using System.Globalization;
using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Server.Api;
using Bulwark.Storage;

namespace Bulwark.Server;

/// <summary>
/// Jobs, queues, workers and recurring jobs in the HTTP API's JSON shape (snake_case names, payloads as JSON,
/// durations as <c>30s</c>), for tools that print what the API would answer — the CLI's <c>--json</c> prints these, so a
/// script can switch between <c>--store</c>, <c>--url</c> and the API itself.
/// </summary>
public static class BulwarkApiJson
{
    /// <summary>The API's serializer options: snake_case names and enums, nulls left out.</summary>
    public static JsonSerializerOptions Options => ApiJson.Options;

    /// <summary>A job as <c>GET /jobs/{id}</c> shows it; <paramref name="summary"/> leaves out payload, checkpoint, result and errors, as lists do.</summary>
    public static JsonElement Job(JobSnapshot job, bool summary = false) => Element(JobView.From(job, summary));

    /// <summary>A page of jobs as <c>GET /jobs</c> shows it: <c>items</c> (summaries) and <c>next_cursor</c>.</summary>
    public static JsonElement JobPage(JobPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        return Element(new
        {
            items = page.Items.Select(j => JobView.From(j, summary: true)).ToArray(),
            next_cursor = page.NextCursor?.ToString(CultureInfo.InvariantCulture),
        });
    }

    /// <summary>
    /// A queue as <c>GET /queues/{q}</c> shows it. Its hard limit and warning depth are the server's settings: they are
    /// shown when <paramref name="server"/> is given and left out otherwise.
    /// </summary>
    public static JsonElement Queue(QueueStats queue, QueueLimits? limits = null, QueuePolicy? policy = null, BulwarkServerOptions? server = null) =>
        Element(QueueView.From(queue, server, limits, policy));

    /// <summary>A worker as <c>GET /workers</c> lists it.</summary>
    public static JsonElement Worker(WorkerInfo worker) => Element(WorkerView.From(worker));

    /// <summary>A recurring job as <c>GET /recurring/{name}</c> shows it.</summary>
    public static JsonElement Recurring(RecurringJob job) => Element(RecurringView.From(job));

    /// <summary>A queue's rate and concurrency limits as <c>GET /queues/{q}/limits</c> shows them.</summary>
    public static JsonElement QueueLimits(string queue, QueueLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return Element(new QueueLimitEndpoints.LimitsView(queue, limits.RatePerSecond, limits.MaxRunning));
    }

    private static JsonElement Element<T>(T value) => JsonSerializer.SerializeToElement(value, ApiJson.Options);
}
