using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.Worker.Tests;

/// <summary>Real <c>bulwark worker</c> processes on one SQLite store, real signals, executions counted from outside with demo.append.</summary>
public sealed class WorkerProcessTests : IAsyncLifetime
{
    // Short settings keep these fast: a silent worker is dead after 3 s.
    private static readonly string[] Fast = ["--lease", "3s", "--heartbeat", "500ms", "--dead-after", "3s", "--poll", "100ms", "--abandon-grace", "1s"];

    private WorkerFleet _fleet = null!;

    private string AppendPath => Path.Combine(_fleet.Dir, "executions.txt");

    public async Task InitializeAsync() => _fleet = await WorkerFleet.OpenAsync("bulwark-worker-proc-");

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Fact]
    public async Task Killing_a_worker_mid_job_loses_nothing_and_its_jobs_are_reclaimed_within_15_seconds()
    {
        var sleeps = await EnqueueAsync("demo.sleep", """{"ms":2500}""", 8);
        var (appends, expectedLines) = await EnqueueAppendsAsync(30);
        var w1 = Start("w1", ["--concurrency", "4", .. Fast]);
        await Poll.UntilAsync(async () => (await RunningOwnedByAsync("w1-")).Count >= 2, TimeSpan.FromSeconds(30), () => w1.Output);
        var w2 = Start("w2", ["--concurrency", "4", .. Fast]);

        var inFlight = await RunningOwnedByAsync("w1-");
        w1.KillHard();
        var killedAt = DateTime.UtcNow;
        await Poll.UntilAsync(async () => (await RunningOwnedByAsync("w1-")).Count == 0, TimeSpan.FromSeconds(15), () => "w1's jobs still leased to it\n" + w2.Output);
        Assert.True(DateTime.UtcNow - killedAt < TimeSpan.FromSeconds(15));

        await Poll.UntilAsync(() => _fleet.AllInStateAsync([.. sleeps, .. appends], JobState.Completed), TimeSpan.FromSeconds(60), () => w2.Output);
        var lines = await File.ReadAllLinesAsync(AppendPath);
        Assert.Equal(expectedLines.Order(), lines.Distinct().Order());
        // Duplicates only among the killed worker's in-flight jobs.
        Assert.True(lines.Length - appends.Count <= inFlight.Count, $"{lines.Length - appends.Count} duplicate executions, {inFlight.Count} in flight");
    }

    [Fact]
    public async Task A_killed_workers_jobs_run_again_in_parallel_on_the_survivor_and_a_fresh_job_does_not_wait_for_them()
    {
        var victims = await EnqueueAsync("demo.sleep", """{"ms":4000}""", 5);
        var w1 = Start("victim", ["--concurrency", "5", .. Fast]);
        await Poll.UntilAsync(async () => (await RunningOwnedByAsync("victim-")).Count == 5, TimeSpan.FromSeconds(30), () => w1.Output);
        var w2 = Start("survivor", ["--concurrency", "5", .. Fast]);
        await Poll.UntilAsync(async () => (await _fleet.Store.ListWorkersAsync()).Any(w => w.Registration.Name == "survivor" && w.State == WorkerState.Active), TimeSpan.FromSeconds(30), () => w2.Output);

        w1.KillHard();
        var fresh = (await EnqueueAsync("demo.sleep", """{"ms":200}""", 1))[0];
        await Poll.UntilAsync(() => _fleet.AllInStateAsync([.. victims, fresh], JobState.Completed), TimeSpan.FromSeconds(60), () => w2.Output);

        var reclaimed = new List<JobSnapshot>();
        foreach (var id in victims)
        {
            var job = (await _fleet.Store.GetJobAsync(id))!;
            Assert.Equal(FailureCategory.Crash, Assert.Single(job.Errors).Category);
            Assert.Equal(2, job.Attempt);
            reclaimed.Add(job);
        }

        // All five ran at once on the survivor: the last one started before the first one finished.
        var lastStart = reclaimed.Max(j => j.StartedAt!.Value);
        var firstFinish = reclaimed.Min(j => j.FinishedAt!.Value);
        Assert.True(lastStart < firstFinish,
            $"the reclaimed jobs ran one after another: starts {string.Join(", ", reclaimed.Select(j => j.StartedAt!.Value.ToString("HH:mm:ss.fff")))}, first finish {firstFinish:HH:mm:ss.fff}");
        var freshJob = (await _fleet.Store.GetJobAsync(fresh))!;
        Assert.True(freshJob.StartedAt < firstFinish, $"the fresh job started at {freshJob.StartedAt:HH:mm:ss.fff}, after the reclaimed jobs began finishing at {firstFinish:HH:mm:ss.fff}");
        Assert.DoesNotContain("runs alone", w2.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_probe_port_answers_health_and_detailed_and_503_draining_until_the_drain_ends()
    {
        var longJob = (await EnqueueAsync("demo.sleep", """{"ms":120000}""", 1))[0];
        var url = $"http://127.0.0.1:{FreePort()}";
        var worker = Start("probed", ["--concurrency", "1", "--shutdown-timeout", "4s", "--health-urls", url, .. Fast]);
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        await Poll.UntilAsync(async () => await StatusAsync(http, "/health") == 200, TimeSpan.FromSeconds(30), () => worker.Output);
        await Poll.UntilAsync(async () => (await RunningOwnedByAsync("probed-")).Count == 1, TimeSpan.FromSeconds(30), () => worker.Output);

        using (var bare = await http.GetAsync("/health"))
        {
            var body = JsonDocument.Parse(await bare.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("ready", body.GetProperty("status").GetString());
            Assert.True(body.GetProperty("checks").GetProperty("memory").GetProperty("ok").GetBoolean());
        }

        var detailed = JsonDocument.Parse(await http.GetStringAsync("/health/detailed")).RootElement.GetProperty("worker");
        Assert.Equal("probed", detailed.GetProperty("name").GetString());
        Assert.Equal(1, detailed.GetProperty("concurrency").GetInt32());
        Assert.Equal(1, detailed.GetProperty("active_jobs").GetInt32());
        Assert.False(detailed.GetProperty("memory_paused").GetBoolean());

        // SIGTERM: the drain waits up to 4 s for the long job; meanwhile the probe answers 503 "draining", not a refusal.
        await worker.SignalAsync("TERM");
        JsonElement draining = default;
        await Poll.UntilAsync(async () =>
        {
            using var ready = await http.GetAsync("/health/ready");
            draining = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.Clone();
            return ready.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable;
        }, TimeSpan.FromSeconds(10), () => worker.Output);
        Assert.Equal("draining", draining.GetProperty("status").GetString());
        Assert.False(draining.GetProperty("checks").GetProperty("draining").GetProperty("ok").GetBoolean());
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(JobState.Ready, (await _fleet.Store.GetJobAsync(longJob))!.State);
    }

    [Fact]
    public async Task A_worker_paused_at_its_memory_limit_is_not_ready_and_says_why()
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var worker = Start("heavy", ["--memory-limit-mb", "1", "--health-urls", url, .. Fast]);
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        JsonElement ready = default;
        await Poll.UntilAsync(async () =>
        {
            try
            {
                using var response = await http.GetAsync("/health/ready");
                ready = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                return response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && ready.GetProperty("checks").TryGetProperty("memory", out var memory) && !memory.GetProperty("ok").GetBoolean();
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), () => worker.Output);

        Assert.Equal("not_ready", ready.GetProperty("status").GetString());
        Assert.Contains("leasing paused", ready.GetProperty("checks").GetProperty("memory").GetProperty("detail").GetString());
        Assert.True(JsonDocument.Parse(await http.GetStringAsync("/health/detailed")).RootElement.GetProperty("worker").GetProperty("memory_paused").GetBoolean());
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<int> StatusAsync(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(path);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    [Fact]
    public async Task SIGTERM_drains_finishing_short_jobs_releasing_long_ones_uncharged_and_exits_0()
    {
        // Short jobs outlast the poll that sees all four running, and finish well within the shutdown timeout.
        var shortJobs = await EnqueueAsync("demo.sleep", """{"ms":3000}""", 2);
        var longJobs = await EnqueueAsync("demo.sleep", """{"ms":120000}""", 2);
        var worker = Start("drainer", ["--concurrency", "4", "--shutdown-timeout", "7s", .. Fast]);
        await Poll.UntilAsync(async () => (await RunningOwnedByAsync("drainer-")).Count == 4, TimeSpan.FromSeconds(30), () => worker.Output);

        await worker.SignalAsync("TERM");
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("released 2 jobs", worker.Output);
        Assert.True(await _fleet.AllInStateAsync(shortJobs, JobState.Completed), worker.Output);
        foreach (var id in longJobs)
        {
            var job = (await _fleet.Store.GetJobAsync(id))!;
            Assert.Equal(JobState.Ready, job.State);
            Assert.Equal(0, job.Attempt);
            Assert.Equal(FailureCategory.Shutdown, Assert.Single(job.Errors).Category);
        }

        Assert.Equal(WorkerState.Stopped, (await _fleet.Store.ListWorkersAsync()).Single(w => w.Registration.Name == "drainer").State);
    }

    [Fact]
    public async Task A_worker_paused_past_its_lease_finds_its_jobs_finished_elsewhere_and_its_late_outcomes_refused()
    {
        var jobs = await EnqueueAsync("demo.sleep", """{"ms":4000}""", 2);
        var sleeper = Start("sleeper", ["--concurrency", "2", .. Fast]);
        await Poll.UntilAsync(async () => (await RunningOwnedByAsync("sleeper-")).Count == 2, TimeSpan.FromSeconds(30), () => sleeper.Output);

        var rescuer = Start("rescuer", ["--concurrency", "2", .. Fast]);
        await Poll.UntilAsync(() => Task.FromResult(rescuer.Output.Contains("Recovery completed", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), () => rescuer.Output);
        for (var tries = 1; ; tries++)
        {
            await sleeper.SignalAsync("STOP");
            try
            {
                // Stopped inside a SQLite write transaction, the sleeper would hold the file's lock and stall everyone:
                // a limit of the embedded store. Then let it finish that transaction and stop it again.
                await Poll.UntilAsync(async () => (await RunningOwnedByAsync("sleeper-")).Count == 0, TimeSpan.FromSeconds(12), () => rescuer.Output);
                break;
            }
            catch (TimeoutException) when (tries < 4)
            {
                await sleeper.SignalAsync("CONT");
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }

        await Poll.UntilAsync(() => _fleet.AllInStateAsync(jobs, JobState.Completed), TimeSpan.FromSeconds(40), () => rescuer.Output);
        foreach (var id in jobs)
        {
            var job = (await _fleet.Store.GetJobAsync(id))!;
            Assert.Contains(job.Errors, e => e.Category == FailureCategory.Crash);
            Assert.DoesNotContain("sleeper-", job.LeaseOwner ?? string.Empty, StringComparison.Ordinal);
        }

        await sleeper.SignalAsync("CONT");
        await Poll.UntilAsync(
            () => Task.FromResult(sleeper.Output.Contains("refused", StringComparison.Ordinal) || sleeper.Output.Contains("lost (reclaimed", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20),
            () => sleeper.Output);
        Assert.True(await _fleet.AllInStateAsync(jobs, JobState.Completed));
        await sleeper.SignalAsync("TERM");
        Assert.Equal(0, await sleeper.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_job_that_crashes_every_worker_is_quarantined_as_poison_while_other_jobs_complete()
    {
        var poison = (await EnqueueAsync("demo.crash", "{}", 1, maxAttempts: 2))[0];
        var panic = (await EnqueueAsync("demo.fail", """{"times":1,"category":"system"}""", 1))[0];
        var (appends, expectedLines) = await EnqueueAppendsAsync(10);
        var restarts = 0;
        var worker = Start("victim", ["--concurrency", "1", .. Fast]);
        await Poll.UntilAsync(
            async () =>
            {
                if (worker.HasExited)
                {
                    // The supervisor restarts it under the same name: registration reclaims what it was running.
                    restarts++;
                    worker = Start("victim", ["--concurrency", "1", .. Fast]);
                }

                return (await _fleet.Store.GetJobAsync(poison))!.State == JobState.DeadLetter && await _fleet.AllInStateAsync([panic, .. appends], JobState.Completed);
            },
            TimeSpan.FromSeconds(90),
            () => worker.Output);

        Assert.Equal(2, restarts);
        var job = (await _fleet.Store.GetJobAsync(poison))!;
        Assert.Equal(2, job.Errors.Count);
        Assert.All(job.Errors, e => Assert.Equal(FailureCategory.Crash, e.Category));
        Assert.Equal(FailureCategory.System, Assert.Single((await _fleet.Store.GetJobAsync(panic))!.Errors).Category);
        Assert.Equal(expectedLines.Order(), (await File.ReadAllLinesAsync(AppendPath)).Order());
    }

    [Fact]
    public async Task A_poison_job_leased_beside_other_jobs_takes_them_down_at_most_twice_and_is_quarantined_within_max_attempts()
    {
        var poison = (await EnqueueAsync("demo.crash", "{}", 1, maxAttempts: 3))[0];
        var (appends, expectedLines) = await EnqueueAppendsAsync(12);
        var restarts = 0;
        var worker = Start("crowd", ["--concurrency", "4", .. Fast]);
        await Poll.UntilAsync(
            async () =>
            {
                if (worker.HasExited)
                {
                    restarts++;
                    worker = Start("crowd", ["--concurrency", "4", .. Fast]);
                }

                return (await _fleet.Store.GetJobAsync(poison))!.State == JobState.DeadLetter && await _fleet.AllInStateAsync(appends, JobState.Completed);
            },
            TimeSpan.FromSeconds(90),
            () => worker.Output);

        // Three crashes for max_attempts 3: the first two beside other jobs (one crash proves nothing), then, present at
        // two crashes, it runs alone and its third crash quarantines it.
        Assert.Equal(3, restarts);
        var job = (await _fleet.Store.GetJobAsync(poison))!;
        Assert.Equal(3, job.Errors.Count(e => e.Category == FailureCategory.Crash));
        Assert.Contains("poison", job.Reason, StringComparison.OrdinalIgnoreCase);
        foreach (var id in appends)
        {
            Assert.True((await _fleet.Store.GetJobAsync(id))!.Errors.Count(e => e.Category == FailureCategory.Crash) <= 2, $"job {id} was charged more than the poison job's first two crashes");
        }

        Assert.Equal(expectedLines.Order(), (await File.ReadAllLinesAsync(AppendPath)).Distinct().Order());
    }

    [Fact]
    public async Task A_hung_handler_times_out_is_retried_then_dead_lettered_and_its_slot_keeps_serving()
    {
        var hung = (await EnqueueAsync("demo.hang", "{}", 1, maxAttempts: 2, timeout: TimeSpan.FromSeconds(1)))[0];
        var (appends, expectedLines) = await EnqueueAppendsAsync(5);
        var worker = Start("single", ["--concurrency", "1", .. Fast]);

        await Poll.UntilAsync(async () => (await _fleet.Store.GetJobAsync(hung))!.State == JobState.DeadLetter && await _fleet.AllInStateAsync(appends, JobState.Completed), TimeSpan.FromSeconds(60), () => worker.Output);
        var job = (await _fleet.Store.GetJobAsync(hung))!;
        Assert.Equal(2, job.Errors.Count);
        Assert.All(job.Errors, e => Assert.Equal(FailureCategory.Timeout, e.Category));
        Assert.Contains("Attempts exhausted", job.Reason);
        Assert.Equal(expectedLines.Order(), (await File.ReadAllLinesAsync(AppendPath)).Order());
        Assert.False(worker.HasExited);
    }

    private BulwarkProcess Start(string name, string[] args) => _fleet.Start(name, args);

    private Task<IReadOnlyList<long>> EnqueueAsync(string type, string payload, int count, int maxAttempts = 3, TimeSpan? timeout = null) =>
        EnqueuePayloadsAsync(type, Enumerable.Repeat(payload, count), maxAttempts, timeout);

    private async Task<IReadOnlyList<long>> EnqueuePayloadsAsync(string type, IEnumerable<string> payloads, int maxAttempts = 3, TimeSpan? timeout = null)
    {
        var jobs = payloads.Select(payload => JobValidator.Validate(new NewJob
        {
            Queue = "default",
            Type = type,
            Payload = payload,
            MaxAttempts = maxAttempts,
            Timeout = timeout ?? JobDefaults.Timeout,
            Backoff = BackoffPolicy.Fixed(TimeSpan.FromMilliseconds(100)),
        })).ToArray();
        return (await _fleet.Store.EnqueueAsync(jobs)).Select(r => r.Id).ToArray();
    }

    /// <summary>demo.append jobs whose lines name them, so the file says which jobs ran and how often.</summary>
    private async Task<(IReadOnlyList<long> Ids, IReadOnlyList<string> Lines)> EnqueueAppendsAsync(int count)
    {
        var lines = Enumerable.Range(0, count).Select(i => $"append-{i}").ToArray();
        var ids = await EnqueuePayloadsAsync("demo.append", lines.Select(line => JsonSerializer.Serialize(new { path = AppendPath, line })));
        return (ids, lines);
    }

    private async Task<IReadOnlyList<JobSnapshot>> RunningOwnedByAsync(string ownerPrefix)
    {
        var page = await _fleet.Store.ListJobsAsync(new JobListQuery(State: JobState.Running, Limit: 1000));
        return page.Items.Where(j => j.LeaseOwner?.StartsWith(ownerPrefix, StringComparison.Ordinal) == true).ToArray();
    }
}
