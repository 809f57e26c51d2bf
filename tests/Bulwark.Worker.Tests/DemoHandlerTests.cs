using Bulwark.Hosting;
using Bulwark.Jobs;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class DemoHandlerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bulwark-demo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Demo_steps_saves_a_checkpoint_per_step_and_a_retry_resumes_after_it()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddDemoHandlers(), o => o.ShutdownTimeout = TimeSpan.Zero);
        var id = await h.EnqueueAsync("demo.steps", """{"steps":4,"ms":1000}""");
        await h.Runtime.RunOnceAsync();
        await h.SettleAsync(async () => (await h.GetAsync(id)).Progress >= 50 || await AdvanceAsync(h));

        await h.Runtime.DrainAsync(CancellationToken.None); // interrupted mid-way: released with its checkpoint
        var released = await h.GetAsync(id);
        Assert.Equal(JobState.Ready, released.State);
        var saved = released.Progress / 25;
        Assert.Equal($$"""{"step":{{saved}}}""", released.Checkpoint);

        await using var next = await WorkerHarness.StartAsync(b => b.AddDemoHandlers(), o => o.Name = "second", sharing: h);
        await next.Runtime.RunOnceAsync();
        await next.SettleAsync(async () => (await next.GetAsync(id)).State == JobState.Completed || await AdvanceAsync(next));
        Assert.Equal($$"""{"steps":4,"resumedFrom":{{saved}}}""", (await next.GetAsync(id)).Result);
    }

    [Fact]
    public async Task Demo_fail_fails_its_first_attempts_in_the_asked_category_then_completes()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddDemoHandlers());
        var id = await h.EnqueueAsync("demo.fail", """{"times":1,"category":"system"}""", backoff: BackoffPolicy.Fixed(TimeSpan.Zero));
        await h.Runtime.RunOnceAsync();
        Assert.Equal(FailureCategory.System, Assert.Single((await h.WaitForStateAsync(id, JobState.Scheduled)).Errors).Category);
        await h.Runtime.RunOnceAsync();
        await h.WaitForStateAsync(id, JobState.Completed);
    }

    [Fact]
    public async Task Demo_append_appends_one_line_per_execution()
    {
        var file = Path.Combine(_dir, "runs.txt");
        await using var h = await WorkerHarness.StartAsync(b => b.AddDemoHandlers());
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await h.EnqueueAsync("demo.append", $$"""{"path":{{System.Text.Json.JsonSerializer.Serialize(file)}},"line":"job-{{i}}"}"""));
        }

        await h.Runtime.RunOnceAsync();
        await h.SettleAsync();
        Assert.Equal(["job-0", "job-1", "job-2"], (await File.ReadAllLinesAsync(file)).Order());
    }

    [Fact]
    public async Task Demo_trace_writes_each_run_with_its_lease_and_returns_the_lease_that_completed_it()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddDemoHandlers());
        var id = await h.EnqueueAsync("demo.trace", $$"""{"dir":{{System.Text.Json.JsonSerializer.Serialize(_dir)}},"ms":0,"fail":1}""", backoff: BackoffPolicy.Fixed(TimeSpan.Zero));
        await h.Runtime.RunOnceAsync();
        var failed = await h.WaitForStateAsync(id, JobState.Scheduled);
        await h.Runtime.RunOnceAsync();
        var done = await h.WaitForStateAsync(id, JobState.Completed);

        var lines = (await File.ReadAllLinesAsync(Assert.Single(Directory.GetFiles(_dir, "*.trace")))).Select(l => l.Split(' ')).ToArray();
        Assert.Equal(["start", "fail", "start", "finish"], lines.Select(l => l[0]));
        Assert.All(lines, l => Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), l[1]));
        var (first, second) = (long.Parse(lines[0][3], System.Globalization.CultureInfo.InvariantCulture), long.Parse(lines[2][3], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(second > first, $"the second run's lease {second} must be newer than the first's {first}");
        Assert.Equal(done.LeaseEpoch, second);
        Assert.Contains($"at lease {first} fails", Assert.Single(failed.Errors).Message, StringComparison.Ordinal);
        Assert.Contains($"\"epoch\":{second}", done.Result, StringComparison.Ordinal);
    }

    private static Task<bool> AdvanceAsync(WorkerHarness h)
    {
        h.Time.Advance(TimeSpan.FromSeconds(1));
        return Task.FromResult(false);
    }
}
