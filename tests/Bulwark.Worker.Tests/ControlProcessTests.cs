using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.Worker.Tests;

/// <summary>
/// Cancellation, checkpoints, pause and limits with real <c>bulwark worker</c> processes on one SQLite store: what the
/// store enforces must hold across processes. Measured from outside through the store; waits poll with deadlines.
/// </summary>
public sealed class ControlProcessTests : IAsyncLifetime
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);
    private static readonly string[] Fast = ["--lease", "3s", "--heartbeat", "1s", "--dead-after", "3s", "--poll", "100ms", "--abandon-grace", "1s"];

    private WorkerFleet _fleet = null!;

    public async Task InitializeAsync() => _fleet = await WorkerFleet.OpenAsync("bulwark-control-proc-");

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Fact]
    public async Task A_running_job_whose_cancellation_is_requested_ends_Cancelled_within_one_heartbeat()
    {
        var id = (await EnqueueAsync("work", "demo.sleep", """{"ms":120000}""", 1))[0];
        var worker = Start("canceller", "work", "--concurrency", "1");
        await Poll.UntilAsync(async () => (await _fleet.Store.GetJobAsync(id))!.State == JobState.Running, TimeSpan.FromSeconds(30), () => worker.Output);

        Assert.Equal(CancelResult.CancellationRequested, await _fleet.Store.CancelAsync(id));
        var requestedAt = DateTime.UtcNow;
        await Poll.UntilAsync(async () => (await _fleet.Store.GetJobAsync(id))!.State == JobState.Cancelled, TimeSpan.FromSeconds(15), () => worker.Output);
        var elapsed = DateTime.UtcNow - requestedAt;

        // One heartbeat carries the request; the rest is the handler's unwinding, the fenced write and this poll.
        Assert.True(elapsed < Heartbeat + TimeSpan.FromSeconds(1.5), $"cancelled after {elapsed.TotalMilliseconds:0} ms");
        var job = (await _fleet.Store.GetJobAsync(id))!;
        Assert.Equal(FailureCategory.Cancelled, Assert.Single(job.Errors).Category);
        Assert.False(worker.HasExited, worker.Output);
    }

    [Fact]
    public async Task After_kill_9_a_second_worker_resumes_demo_steps_from_the_saved_checkpoint()
    {
        var id = (await EnqueueAsync("steps", "demo.steps", """{"steps":12,"ms":300}""", 1))[0];
        var first = Start("stepper-a", "steps", "--concurrency", "1");
        await Poll.UntilAsync(async () => (await _fleet.Store.GetJobAsync(id))!.Progress >= 25, TimeSpan.FromSeconds(30), () => first.Output);

        first.KillHard();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var saved = (await _fleet.Store.GetJobAsync(id))!;
        var savedStep = JsonDocument.Parse(saved.Checkpoint!).RootElement.GetProperty("step").GetInt32();
        Assert.InRange(savedStep, 3, 11);
        Assert.Equal(savedStep * 100 / 12, saved.Progress);

        var second = Start("stepper-b", "steps", "--concurrency", "1");
        await Poll.UntilAsync(async () => (await _fleet.Store.GetJobAsync(id))!.State == JobState.Completed, TimeSpan.FromSeconds(45), () => second.Output);

        var done = (await _fleet.Store.GetJobAsync(id))!;
        var result = JsonDocument.Parse(done.Result!).RootElement;
        Assert.Equal((12, savedStep), (result.GetProperty("steps").GetInt32(), result.GetProperty("resumedFrom").GetInt32()));
        Assert.Equal((100, 2), (done.Progress, done.Attempt));
        Assert.Equal(12, JsonDocument.Parse(done.Checkpoint!).RootElement.GetProperty("step").GetInt32());
        Assert.Equal(FailureCategory.Crash, Assert.Single(done.Errors).Category);
    }

    [Fact]
    public async Task A_paused_queue_is_not_leased_by_either_of_two_workers_and_both_drain_it_after_resume()
    {
        await _fleet.Store.SetQueuePausedAsync("held", paused: true);
        var held = await EnqueueAsync("held", "demo.sleep", """{"ms":1500}""", 8);
        // Canaries on an unpaused queue show both workers leasing while the paused queue waits.
        var canaries = await EnqueueAsync("canary", "demo.sleep", """{"ms":1500}""", 4);
        var a = Start("pause-a", "held,canary", "--concurrency", "2");
        var b = Start("pause-b", "held,canary", "--concurrency", "2");

        await Poll.UntilAsync(async () => BothOwners(await RunningAsync("canary")), TimeSpan.FromSeconds(30), () => a.Output + b.Output);
        await Poll.UntilAsync(() => _fleet.AllInStateAsync(canaries, JobState.Completed), TimeSpan.FromSeconds(30), () => a.Output + b.Output);
        foreach (var id in held)
        {
            var job = (await _fleet.Store.GetJobAsync(id))!;
            Assert.Equal((JobState.Ready, 0), (job.State, job.Attempt));
        }

        await _fleet.Store.SetQueuePausedAsync("held", paused: false);
        var owners = new HashSet<string>(StringComparer.Ordinal);
        await Poll.UntilAsync(async () =>
        {
            foreach (var job in await RunningAsync("held"))
            {
                owners.Add(job.LeaseOwner!.Split('-')[1]);
            }

            return await _fleet.AllInStateAsync(held, JobState.Completed);
        }, TimeSpan.FromSeconds(45), () => a.Output + b.Output);
        Assert.Equal(["a", "b"], owners.Order());
    }

    [Fact]
    public async Task A_concurrency_limit_of_2_holds_across_two_worker_processes()
    {
        await ((IQueueLimitStore)_fleet.Store).SetQueueLimitsAsync("capped", new QueueLimits { MaxRunning = 2 });
        var ids = await EnqueueAsync("capped", "demo.sleep", """{"ms":700}""", 10);
        var a = Start("cap-a", "capped", "--concurrency", "4");
        var b = Start("cap-b", "capped", "--concurrency", "4");

        var most = 0;
        await Poll.UntilAsync(async () =>
        {
            most = Math.Max(most, (await RunningAsync("capped")).Count);
            return await _fleet.AllInStateAsync(ids, JobState.Completed);
        }, TimeSpan.FromSeconds(60), () => a.Output + b.Output);

        Assert.InRange(most, 1, 2);
        // Exact, from the store's own times: at no instant did more than two attempts overlap.
        var jobs = await Task.WhenAll(ids.Select(async id => (await _fleet.Store.GetJobAsync(id))!));
        Assert.True(MaxOverlap(jobs.Select(j => (j.StartedAt!.Value, j.FinishedAt!.Value))) <= 2, string.Join("\n", jobs.Select(j => $"{j.StartedAt:O} {j.FinishedAt:O}")));
        // The cap, not a lack of work, bounded it: ten 0.7 s jobs two at a time take at least 3.5 s.
        Assert.True(jobs.Max(j => j.FinishedAt!.Value) - jobs.Min(j => j.StartedAt!.Value) >= TimeSpan.FromSeconds(3.4));
    }

    [Fact]
    public async Task A_rate_limit_of_5_per_second_holds_across_two_worker_processes()
    {
        const double rate = 5;
        await ((IQueueLimitStore)_fleet.Store).SetQueueLimitsAsync("metered", new QueueLimits { RatePerSecond = rate });
        var ids = await EnqueueAsync("metered", "demo.noop", "{}", 25);
        var a = Start("rate-a", "metered", "--concurrency", "4");
        var b = Start("rate-b", "metered", "--concurrency", "4");

        await Poll.UntilAsync(() => _fleet.AllInStateAsync(ids, JobState.Completed), TimeSpan.FromSeconds(60), () => a.Output + b.Output);

        var starts = (await Task.WhenAll(ids.Select(async id => (await _fleet.Store.GetJobAsync(id))!.StartedAt!.Value))).Order().ToArray();
        // A bucket of one second's worth: in any window of W seconds at most rate·W + rate starts (burst plus refill).
        foreach (var window in new[] { 1.0, 2.0, 3.0 })
        {
            var most = starts.Max(s => starts.Count(t => t >= s && t < s.AddSeconds(window)));
            Assert.True(most <= rate * window + rate, $"{most} starts within {window} s: {string.Join(", ", starts.Select(t => t.ToString("HH:mm:ss.fff")))}");
        }

        // 25 starts with a burst of 5 need at least 20 / 5 = 4 s of refill.
        Assert.True(starts[^1] - starts[0] >= TimeSpan.FromSeconds(3.9), $"25 starts in {(starts[^1] - starts[0]).TotalSeconds:0.00} s");
    }

    private BulwarkProcess Start(string name, string queues, params string[] args) =>
        _fleet.Start(name, ["--queues", queues, .. args, .. Fast]);

    private async Task<IReadOnlyList<long>> EnqueueAsync(string queue, string type, string payload, int count)
    {
        var jobs = Enumerable.Range(0, count).Select(_ => JobValidator.Validate(new NewJob
        {
            Queue = queue,
            Type = type,
            Payload = payload,
            Backoff = BackoffPolicy.Fixed(TimeSpan.FromMilliseconds(100)),
        })).ToArray();
        return (await _fleet.Store.EnqueueAsync(jobs)).Select(r => r.Id).ToArray();
    }

    private async Task<IReadOnlyList<JobSnapshot>> RunningAsync(string queue) =>
        (await _fleet.Store.ListJobsAsync(new JobListQuery(queue, JobState.Running, Limit: 1000))).Items;

    private static bool BothOwners(IReadOnlyList<JobSnapshot> running) =>
        running.Select(j => j.LeaseOwner!.Split('-')[1]).Distinct(StringComparer.Ordinal).Count() == 2;

    private static int MaxOverlap(IEnumerable<(DateTimeOffset Start, DateTimeOffset End)> intervals)
    {
        // Ends sort before starts at the same instant: a slot freed and taken at once is not an overlap.
        var events = intervals.SelectMany(i => new[] { (At: i.Start, Delta: 1), (At: i.End, Delta: -1) }).OrderBy(e => e.At).ThenBy(e => e.Delta);
        int current = 0, most = 0;
        foreach (var e in events)
        {
            current += e.Delta;
            most = Math.Max(most, current);
        }

        return most;
    }
}
