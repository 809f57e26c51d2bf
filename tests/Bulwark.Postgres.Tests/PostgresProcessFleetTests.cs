using System.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>
/// Three <c>bulwark worker</c> processes and a <c>bulwark serve --workers 0</c> on one PostgreSQL database, as a fleet of
/// machines runs them: every process runs maintenance, and the server takes the load through its API.
/// </summary>
[Collection(ProcessFleetCollection.Name)]
public sealed class PostgresProcessFleetTests
{
    [Fact]
    public async Task A_worker_killed_mid_load_loses_nothing_and_its_jobs_are_reclaimed_within_15_seconds()
    {
        await using var fleet = await ProcessFleet.CreateAsync("kill");
        await fleet.StartServerAsync();
        var workers = new List<(BulwarkProcess Process, string Id)>();
        for (var i = 0; i < 3; i++)
        {
            workers.Add(await fleet.StartWorkerAsync($"w{i}", "--concurrency", "8"));
        }

        var (victim, victimId) = workers[0];
        var file = Path.Combine(fleet.Folder, "appended.txt");
        var appends = new Dictionary<long, string>();
        var acknowledged = new List<long>();
        using var stop = new CancellationTokenSource();
        var producer = Task.Run(async () =>
        {
            // Steady load: every tenth job sleeps, so that every worker always holds jobs in flight.
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                long id;
                if (n % 10 == 9)
                {
                    id = await fleet.EnqueueAsync(new { queue = "default", type = "demo.sleep", payload = new { ms = 3000 } });
                }
                else
                {
                    var line = $"job-{n}";
                    id = await fleet.EnqueueAsync(new { queue = "default", type = "demo.append", payload = new { path = file, line } });
                    lock (appends)
                    {
                        appends[id] = line;
                    }
                }

                lock (acknowledged)
                {
                    acknowledged.Add(id);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(10));
            }
        });

        int Acked()
        {
            lock (acknowledged)
            {
                return acknowledged.Count;
            }
        }

        async Task<List<JobSnapshot>> RunningOnVictimAsync() =>
            [.. (await fleet.Inspect.ListJobsAsync(new JobListQuery(State: JobState.Running, Limit: JobListQuery.MaxLimit))).Items.Where(j => j.LeaseOwner == victimId)];

        // Killed while it holds a sleeping job (3 s long), so that it surely dies with work in flight.
        await Poll.UntilAsync(
            async () => Acked() >= 100 && (await RunningOnVictimAsync()).Any(j => j.Type == "demo.sleep"),
            TimeSpan.FromSeconds(60),
            () => $"{Acked()} jobs acknowledged; the victim never held a sleeping job.\n{fleet.Outputs()}");
        victim.KillHard();
        var killedAt = Stopwatch.StartNew();
        var ackedAtKill = Acked();

        // The load goes on while the fleet notices the death.
        await Poll.UntilAsync(async () => (await RunningOnVictimAsync()).Count == 0, TimeSpan.FromSeconds(15), () => $"the killed worker's jobs were still running after 15 s.\n{fleet.Outputs()}");
        var reclaimedAfter = killedAt.Elapsed;
        await Poll.UntilAsync(() => Task.FromResult(Acked() >= ackedAtKill + 100), TimeSpan.FromSeconds(60), () => $"only {Acked() - ackedAtKill} jobs acknowledged after the kill.\n{fleet.Outputs()}");
        await stop.CancelAsync();
        await producer;

        await Poll.UntilAsync(
            async () => (await fleet.AllJobsAsync()).All(j => j.State == JobState.Completed),
            TimeSpan.FromSeconds(90),
            () => $"not every job completed.\n{fleet.Outputs()}");

        var jobs = (await fleet.AllJobsAsync()).ToDictionary(j => j.Id);
        Assert.Equal(acknowledged.Order(), jobs.Keys.Order());
        var fromVictim = jobs.Values.Where(j => j.Errors.Any(e => e.Category == FailureCategory.Crash && e.WorkerId == victimId)).Select(j => j.Id).ToHashSet();
        Assert.True(fromVictim.Count > 0, $"no job was reclaimed from the killed worker {victimId}.\n{fleet.Outputs()}");
        Assert.All(jobs.Values.Where(j => !fromVictim.Contains(j.Id)), j => Assert.Equal(0, j.LostLeases));

        var lines = ProcessFleet.CountLines(file);
        foreach (var (id, line) in appends)
        {
            var count = lines.GetValueOrDefault(line);
            Assert.True(count >= 1, $"job {id} ({line}) completed but never appended its line");
            Assert.True(count == 1 || fromVictim.Contains(id), $"job {id} ({line}) ran {count} times but was never in flight on the killed worker");
        }

        Assert.True(reclaimedAfter < TimeSpan.FromSeconds(15), $"reclaimed after {reclaimedAfter}");
    }

    [Fact]
    public async Task Maintenance_in_every_process_at_once_runs_each_delayed_job_exactly_once()
    {
        await using var fleet = await ProcessFleet.CreateAsync("maint");
        await fleet.StartServerAsync();
        for (var i = 0; i < 3; i++)
        {
            await fleet.StartWorkerAsync($"m{i}", "--concurrency", "8");
        }

        // All four processes run maintenance every second; the due times are spread so that promotion passes meet.
        const int Count = 150;
        var file = Path.Combine(fleet.Folder, "delayed.txt");
        var ids = new List<long>();
        for (var n = 0; n < Count; n++)
        {
            ids.Add(await fleet.EnqueueAsync(new { queue = "default", type = "demo.append", payload = new { path = file, line = $"delayed-{n}" }, delay = $"{2000 + (n % 10) * 100}ms" }));
        }

        await Poll.UntilAsync(
            async () => (await fleet.AllJobsAsync()).Count(j => j.State == JobState.Completed) == Count,
            TimeSpan.FromSeconds(60),
            () => $"not every delayed job completed.\n{fleet.Outputs()}");

        var lines = ProcessFleet.CountLines(file);
        Assert.Equal(Count, lines.Count);
        Assert.All(lines, l => Assert.True(l.Value == 1, $"{l.Key} ran {l.Value} times"));
        Assert.All(await fleet.AllJobsAsync(), j => Assert.Equal(1, j.Attempt));
    }

    [Fact]
    public async Task Workers_whose_clocks_are_an_hour_off_neither_steal_nor_lose_leases()
    {
        await using var fleet = await ProcessFleet.CreateAsync("skew");
        await fleet.StartServerAsync();

        // Short leases, jobs longer than a lease: every job survives only by heartbeats, and every process reclaims
        // what it believes has expired. Each worker serves its own queue, so each skewed clock is exercised.
        string[] lease = ["--lease", "3s", "--heartbeat", "1s", "--concurrency", "4"];
        await fleet.StartWorkerAsync("steady", [.. lease, "--queues", "steady"]);
        await fleet.StartWorkerAsync("ahead", [.. lease, "--queues", "ahead", "--clock-offset=1h"]);
        await fleet.StartWorkerAsync("behind", [.. lease, "--queues", "behind", "--clock-offset=-1h"]);

        foreach (var queue in new[] { "steady", "ahead", "behind" })
        {
            for (var n = 0; n < 4; n++)
            {
                await fleet.EnqueueAsync(new { queue, type = "demo.sleep", payload = new { ms = 5000 } });
            }
        }

        await Poll.UntilAsync(
            async () => (await fleet.AllJobsAsync()).All(j => j.State == JobState.Completed),
            TimeSpan.FromSeconds(60),
            () => $"not every job completed.\n{fleet.Outputs()}");

        var jobs = await fleet.AllJobsAsync();
        Assert.Equal(12, jobs.Count);
        Assert.All(jobs, j =>
        {
            Assert.True(j.LostLeases == 0 && j.Attempt == 1 && j.Errors.Count == 0, $"job {j.Id} on {j.Queue}: attempt {j.Attempt}, lost leases {j.LostLeases}, errors: {string.Join("; ", j.Errors.Select(e => e.Message))}");
        });
        Assert.DoesNotContain("lost (reclaimed or finished elsewhere)", fleet.Outputs(), StringComparison.Ordinal);
    }
}
