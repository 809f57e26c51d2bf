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
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);

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
    }
}
