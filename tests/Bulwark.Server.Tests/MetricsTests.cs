using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Bulwark.Diagnostics;
using Bulwark.Hosting;

namespace Bulwark.Server.Tests;

[Collection(MetricsCollection.Name)]
public sealed partial class MetricsTests : IAsyncLifetime
{
    // A queue name no other test class uses: meters of parallel test hosts share the process.
    private const string Queue = "metrics-probe";
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(
        new Dictionary<string, string?> { ["Bulwark:Server:DepthSampleInterval"] = "100ms" },
        bulwark: b => b
        .AddDemoHandlers()
        .AddWorker(w => w.Queues(Queue).Concurrency(4)));

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_scrape_shows_every_design_metric_and_the_counters_move_when_jobs_run()
    {
        var before = await ScrapeAsync();

        await _app.EnqueueAsync(Queue, "demo.noop");
        await _app.EnqueueAsync(Queue, "demo.fail", ",\"max_attempts\":3,\"backoff\":\"fixed(10ms)\"", payload: """{"times":1}""");
        await _app.EnqueueAsync(Queue, "demo.fail", ""","max_attempts":1""", payload: """{"times":5}""");
        await PollAsync(async () =>
        {
            var queues = await _app.Store.GetQueuesAsync();
            var q = queues.SingleOrDefault(x => x.Queue == Queue);
            return q is not null && q[Jobs.JobState.Completed] == 2 && q[Jobs.JobState.DeadLetter] == 1;
        });
        // Queue depth comes from a sampler (every 100 ms here): scrape until a sample that saw the queue is in.
        var after = await ScrapeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!after.Contains($"queue=\"{Queue}\",state=", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            after = await ScrapeAsync();
        }

        foreach (var name in Telemetry.PrometheusNames)
        {
            Assert.True(Regex.IsMatch(after, $"^{name}(_bucket|_count|_sum)?({{| )", RegexOptions.Multiline), $"{name} missing from the scrape:\n{after}");
        }

        Assert.Contains($"bulwark_queue_warning_depth{{otel_scope_name=\"Bulwark\",queue=\"{Queue}\"}} 100000", after);
        Assert.Contains($"bulwark_queue_hard_limit{{otel_scope_name=\"Bulwark\",queue=\"{Queue}\"}} 1000000", after);
        Assert.True(Sum(after, "bulwark_jobs_enqueued_total") >= Sum(before, "bulwark_jobs_enqueued_total") + 3);
        Assert.True(Sum(after, "bulwark_jobs_completed_total") >= Sum(before, "bulwark_jobs_completed_total") + 2);
        Assert.True(Sum(after, "bulwark_jobs_failed_total") >= Sum(before, "bulwark_jobs_failed_total") + 2);
        Assert.True(Sum(after, "bulwark_jobs_retried_total") >= Sum(before, "bulwark_jobs_retried_total") + 1);
        Assert.True(Sum(after, "bulwark_jobs_dead_lettered_total") >= Sum(before, "bulwark_jobs_dead_lettered_total") + 1);
        Assert.True(Sum(after, "bulwark_job_duration_seconds_count") >= Sum(before, "bulwark_job_duration_seconds_count") + 3);
    }

    [Fact]
    public async Task Persistence_errors_are_counted_when_writes_fail()
    {
        var before = Sum(await ScrapeAsync(), "bulwark_persistence_errors_total");
        _app.Faults.FailWrites();

        using var failed = await _app.PostAsync("/api/v1/jobs", $$"""{"queue":"{{Queue}}","type":"demo.noop"}""");
        _app.Faults.Heal();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.True(Sum(await ScrapeAsync(), "bulwark_persistence_errors_total") >= before + 1);
    }

    private async Task<string> ScrapeAsync()
    {
        using var response = await _app.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static double Sum(string scrape, string name) =>
        Regex.Matches(scrape, $"^{name}(?:{{[^}}]*}})? ([0-9.eE+-]+)", RegexOptions.Multiline)
            .Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    private static async Task PollAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "jobs did not finish within 20 s");
            await Task.Delay(50);
        }
    }
}
