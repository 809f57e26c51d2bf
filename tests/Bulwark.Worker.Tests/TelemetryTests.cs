using System.Collections.Concurrent;
using System.Diagnostics;
using Bulwark.Diagnostics;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task A_job_runs_in_an_activity_that_continues_its_producers_trace()
    {
        var stopped = new ConcurrentBag<Activity>();
        using var listener = Listen(stopped);

        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("traced.job", (_, _) => Task.CompletedTask));
        var job = JobValidator.Validate(new NewJob
        {
            Queue = "default",
            Type = "traced.job", // a type no other test uses: job ids repeat across the tests' stores
            Payload = "{}",
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        });
        var id = (await h.Store.EnqueueAsync([job]))[0].Id;
        await h.Runtime.RunOnceAsync();
        await h.WaitForStateAsync(id, JobState.Completed);

        Activity? span = null;
        await Poll.UntilAsync(
            () => Task.FromResult((span = stopped.FirstOrDefault(a => a.GetTagItem("bulwark.job.type") is "traced.job" && a.GetTagItem("bulwark.job.id") is long l && l == id)) is not null),
            TimeSpan.FromSeconds(10),
            () => "no activity for the job");
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", span!.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", span.ParentSpanId.ToHexString());
        Assert.Equal(ActivityKind.Consumer, span.Kind);
        Assert.Equal("process default", span.DisplayName);
        Assert.Equal("bulwark", span.GetTagItem("messaging.system"));
        Assert.Equal("process", span.GetTagItem("messaging.operation.type"));
        Assert.Equal("default", span.GetTagItem("messaging.destination.name"));
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), span.GetTagItem("messaging.message.id"));
    }

    [Fact]
    public async Task Enqueue_through_the_client_opens_a_producer_span_and_the_job_span_is_its_child()
    {
        var stopped = new ConcurrentBag<Activity>();
        using var listener = Listen(stopped);
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("produced.job", (_, _) => Task.CompletedTask));
        using var request = new Activity("incoming request").SetIdFormat(ActivityIdFormat.W3C).Start();

        var client = new Bulwark.Client.JobClient(h.Store, h.Store, time: h.Time);
        var id = await client.EnqueueAsync("default", "produced.job", new Empty());
        request.Stop();
        await h.Runtime.RunOnceAsync();
        await h.WaitForStateAsync(id, JobState.Completed);

        var producer = Assert.Single(stopped, a => a.Kind == ActivityKind.Producer && a.GetTagItem("messaging.message.id") as string == id.ToString(System.Globalization.CultureInfo.InvariantCulture) && a.TraceId == request.TraceId);
        Assert.Equal("send default", producer.DisplayName);
        Assert.Equal("send", producer.GetTagItem("messaging.operation.type"));
        Assert.Equal("default", producer.GetTagItem("messaging.destination.name"));
        Assert.Equal(request.SpanId, producer.ParentSpanId);
        Activity? consumer = null;
        await Poll.UntilAsync(
            () => Task.FromResult((consumer = stopped.FirstOrDefault(a => a.Kind == ActivityKind.Consumer && a.GetTagItem("bulwark.job.id") is long l && l == id && a.TraceId == request.TraceId)) is not null),
            TimeSpan.FromSeconds(10),
            () => "no job span");
        Assert.Equal(producer.SpanId, consumer!.ParentSpanId);
    }

    private static ActivityListener Listen(ConcurrentBag<Activity> stopped)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
