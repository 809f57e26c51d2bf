using System.Globalization;
using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

/// <summary>Recurring jobs, queue limits, pause across instances and per-queue retention.</summary>
public abstract partial class JobStoreContractTests
{
    private IRecurringJobStore Recurring => Assert.IsAssignableFrom<IRecurringJobStore>(Store);

    private IQueueLimitStore Limits => Assert.IsAssignableFrom<IQueueLimitStore>(Store);

    private static RecurringJob Nightly(string cron = "0 0 2 * * *", MisfirePolicy misfire = MisfirePolicy.Skip) => new()
    {
        Name = "nightly-report",
        Cron = cron,
        Queue = "reports",
        Type = "report.build",
        Payload = """{"kind":"nightly"}""",
        Priority = 2,
        MaxAttempts = 5,
        Misfire = misfire,
    };

    private RecurringScheduler SchedulerOn(IJobStore store) => new(Assert.IsAssignableFrom<IRecurringJobStore>(store), Time);

    [Fact]
    public async Task A_recurring_definition_is_stored_with_its_first_tick_and_every_field()
    {
        await SchedulerOn(Store).DefineAsync(Nightly() with { TimeZone = "Europe/Paris", Misfire = MisfirePolicy.RunOnce });

        var stored = Assert.Single(await Recurring.ListRecurringAsync());
        Assert.Equal("nightly-report", stored.Name);
        Assert.Equal("0 0 2 * * *", stored.Cron);
        Assert.Equal("Europe/Paris", stored.TimeZone);
        Assert.Equal(("reports", "report.build", """{"kind":"nightly"}""", 2, 5), (stored.Queue, stored.Type, stored.Payload, stored.Priority, stored.MaxAttempts));
        Assert.Equal(MisfirePolicy.RunOnce, stored.Misfire);
        // 2026-01-01 00:00 UTC is 01:00 in Paris, so the first 02:00 Paris tick is 01:00 UTC.
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 1, 0, 0, TimeSpan.Zero), stored.NextTick);
        Assert.Null(stored.LastTick);
    }

    [Fact]
    public async Task Redeclaring_an_unchanged_schedule_keeps_its_next_tick_and_a_changed_one_replaces_it()
    {
        var scheduler = SchedulerOn(Store);
        await scheduler.DefineAsync(Nightly());
        var first = Assert.Single(await Recurring.ListRecurringAsync()).NextTick;

        Time.Advance(TimeSpan.FromDays(3));
        await scheduler.DefineAsync(Nightly() with { Payload = """{"kind":"v2"}""" });
        var kept = Assert.Single(await Recurring.ListRecurringAsync());
        Assert.Equal(first, kept.NextTick);
        Assert.Equal("""{"kind":"v2"}""", kept.Payload);

        await scheduler.DefineAsync(Nightly("0 30 * * * *"));
        Assert.Equal(Now.AddMinutes(30), Assert.Single(await Recurring.ListRecurringAsync()).NextTick);
    }

    [Fact]
    public async Task A_cron_tick_seen_by_three_maintenance_loops_at_once_is_enqueued_once()
    {
        await SchedulerOn(Store).DefineAsync(Nightly("*/10 * * * * *"));
        var peers = new[] { Store, (await OpenPeerAsync()).Store, (await OpenPeerAsync()).Store };
        var schedulers = peers.Select(SchedulerOn).ToArray();
        Time.Advance(TimeSpan.FromSeconds(10));

        var enqueued = await Task.WhenAll(schedulers.Select(s => s.RunOnceAsync()));
        var again = await Task.WhenAll(schedulers.Select(s => s.RunOnceAsync()));

        Assert.Equal(1, enqueued.Sum());
        Assert.Equal(0, again.Sum());
        var page = await Query.ListJobsAsync(new JobListQuery("reports"));
        var job = Assert.Single(page.Items);
        Assert.Equal($"cron:nightly-report:{Now.ToUnixTimeMilliseconds()}", job.Key);
        Assert.Equal(("report.build", """{"kind":"nightly"}""", 2, 5, JobState.Ready), (job.Type, job.Payload, job.Priority, job.MaxAttempts, job.State));
        var stored = Assert.Single(await Recurring.ListRecurringAsync());
        Assert.Equal(Now, stored.LastTick);
        Assert.Equal(job.Id, stored.LastJobId);
        Assert.Equal(Now.AddSeconds(10), stored.NextTick);
    }

    [Fact]
    public async Task Each_tick_is_enqueued_once_as_time_goes_on()
    {
        await SchedulerOn(Store).DefineAsync(Nightly("*/10 * * * * *"));
        var schedulers = new[] { SchedulerOn(Store), SchedulerOn((await OpenPeerAsync()).Store) };
        var total = 0;
        for (var step = 0; step < 12; step++)
        {
            Time.Advance(TimeSpan.FromSeconds(5));
            total += (await Task.WhenAll(schedulers.Select(s => s.RunOnceAsync()))).Sum();
        }

        Assert.Equal(6, total);
        Assert.Equal(6, (await Query.ListJobsAsync(new JobListQuery("reports"))).Items.Select(j => j.Key).Distinct().Count());
    }

    /// <summary>
    /// Daylight-saving days, as (zone, cron, where the walk starts, the day's one tick, the tick after it), all UTC. A local
    /// time in the spring gap runs at the end of the gap; one in the autumn overlap runs once, at its first (summer) instance.
    /// </summary>
    public static TheoryData<string, string, string, string, string> DaylightSavingDays() => new()
    {
        // 2026-03-29: Berlin jumps 02:00 → 03:00 CEST; 02:30 does not exist, so it runs at 03:00 CEST.
        { "Europe/Berlin", "0 30 2 * * *", "2026-03-28T22:00:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z" },
        // 2026-10-25: Berlin falls back 03:00 CEST → 02:00 CET; 02:30 happens twice (00:30 and 01:30 UTC) and runs once.
        { "Europe/Berlin", "0 30 2 * * *", "2026-10-24T22:00:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z" },
        // 2026-03-08: New York jumps 02:00 EST → 03:00 EDT.
        { "America/New_York", "0 30 2 * * *", "2026-03-08T05:00:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z" },
        // 2026-11-01: New York falls back 02:00 EDT → 01:00 EST; 01:30 happens twice (05:30 and 06:30 UTC) and runs once.
        { "America/New_York", "0 30 1 * * *", "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z" },
    };

    [Theory]
    [MemberData(nameof(DaylightSavingDays), MemberType = typeof(JobStoreContractTests))]
    public async Task A_daily_job_runs_once_on_a_daylight_saving_day_in_its_time_zone(string zone, string cron, string from, string tick, string next)
    {
        Time.Advance(DateTimeOffset.Parse(from, CultureInfo.InvariantCulture) - Now);
        await SchedulerOn(Store).DefineAsync(Nightly(cron) with { TimeZone = zone });
        var schedulers = new[] { SchedulerOn(Store), SchedulerOn((await OpenPeerAsync()).Store) };

        // Two maintenance loops (two store instances) pass every minute through six hours around the change.
        for (var minute = 0; minute < 6 * 60; minute++)
        {
            Time.Advance(TimeSpan.FromMinutes(1));
            await Task.WhenAll(schedulers.Select(s => s.RunOnceAsync()));
        }

        var job = Assert.Single((await Query.ListJobsAsync(new JobListQuery("reports"))).Items);
        Assert.Equal($"cron:nightly-report:{DateTimeOffset.Parse(tick, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()}", job.Key);
        Assert.Equal(DateTimeOffset.Parse(tick, CultureInfo.InvariantCulture), job.CreatedAt);
        Assert.Equal(DateTimeOffset.Parse(next, CultureInfo.InvariantCulture), Assert.Single(await Recurring.ListRecurringAsync()).NextTick);
    }

    [Fact]
    public async Task Ticks_missed_while_the_fleet_was_down_are_skipped_under_the_skip_policy()
    {
        await SchedulerOn(Store).DefineAsync(Nightly("0 0 * * * *"));
        Time.Advance(TimeSpan.FromHours(5) + TimeSpan.FromMinutes(10));

        Assert.Equal(0, await SchedulerOn(Store).RunOnceAsync());

        Assert.Empty((await Query.ListJobsAsync(new JobListQuery("reports"))).Items);
        var stored = Assert.Single(await Recurring.ListRecurringAsync());
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 6, 0, 0, TimeSpan.Zero), stored.NextTick);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 5, 0, 0, TimeSpan.Zero), stored.LastTick);
    }

    [Fact]
    public async Task Ticks_missed_while_the_fleet_was_down_run_once_under_the_run_once_policy()
    {
        await SchedulerOn(Store).DefineAsync(Nightly("0 0 * * * *", MisfirePolicy.RunOnce));
        Time.Advance(TimeSpan.FromHours(5) + TimeSpan.FromMinutes(10));

        Assert.Equal(1, await SchedulerOn(Store).RunOnceAsync());
        Assert.Equal(0, await SchedulerOn(Store).RunOnceAsync());

        var job = Assert.Single((await Query.ListJobsAsync(new JobListQuery("reports"))).Items);
        Assert.Equal($"cron:nightly-report:{new DateTimeOffset(2026, 1, 1, 5, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds()}", job.Key);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 6, 0, 0, TimeSpan.Zero), Assert.Single(await Recurring.ListRecurringAsync()).NextTick);
    }

    [Fact]
    public async Task A_claim_on_a_tick_already_taken_changes_nothing()
    {
        await SchedulerOn(Store).DefineAsync(Nightly("0 0 * * * *"));
        var due = Assert.Single(await Recurring.ListRecurringAsync()).NextTick;
        var job = Nightly().ToNewJob(due);

        var first = await Recurring.ClaimRecurringTickAsync(new RecurringTick("nightly-report", due, due, due.AddHours(1), job));
        var second = await Recurring.ClaimRecurringTickAsync(new RecurringTick("nightly-report", due, due, due.AddHours(1), job));
        var unknown = await Recurring.ClaimRecurringTickAsync(new RecurringTick("no-such-job", due, due, due.AddHours(1), job));

        Assert.True(first.Claimed);
        Assert.NotNull(first.JobId);
        Assert.Equal(new TickClaim(false, null), second);
        Assert.Equal(new TickClaim(false, null), unknown);
        Assert.Single((await Query.ListJobsAsync(new JobListQuery("reports"))).Items);
    }

    [Fact]
    public async Task A_removed_recurring_job_stops_and_its_jobs_stay()
    {
        await SchedulerOn(Store).DefineAsync(Nightly("*/10 * * * * *"));
        Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, await SchedulerOn(Store).RunOnceAsync());

        Assert.True(await Recurring.RemoveRecurringAsync("nightly-report"));
        Assert.False(await Recurring.RemoveRecurringAsync("nightly-report"));
        Time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(0, await SchedulerOn(Store).RunOnceAsync());
        Assert.Empty(await Recurring.ListRecurringAsync());
        Assert.Single((await Query.ListJobsAsync(new JobListQuery("reports"))).Items);
    }

    [Theory]
    [InlineData("61 * * * * *", "cron")]
    [InlineData("", "cron")]
    [InlineData("0 0 2 * * *", "time_zone")]
    public async Task A_bad_recurring_definition_is_refused_and_nothing_is_stored(string cron, string field)
    {
        var job = Nightly(cron) with { TimeZone = field == "time_zone" ? "Mars/Olympus_Mons" : "UTC" };

        var error = await Assert.ThrowsAsync<JobValidationException>(() => Recurring.UpsertRecurringAsync(job));

        Assert.Equal(field, error.Field);
        Assert.Empty(await Recurring.ListRecurringAsync());
    }

    [Fact]
    public async Task Queue_limits_are_stored_read_back_and_cleared()
    {
        await Limits.SetQueueLimitsAsync("email", new QueueLimits { RatePerSecond = 2.5, MaxRunning = 4 });
        await Limits.SetQueueLimitsAsync("sms", new QueueLimits { MaxRunning = 1 });
        await Limits.SetQueueLimitsAsync("sms", QueueLimits.None);

        var limits = await Limits.GetQueueLimitsAsync();

        var email = Assert.Single(limits).Value;
        Assert.Equal(2.5, email.RatePerSecond);
        Assert.Equal(4, email.MaxRunning);
    }

    [Fact]
    public async Task Bad_queue_limits_are_refused_and_nothing_is_stored()
    {
        var rate = await Assert.ThrowsAsync<JobValidationException>(() => Limits.SetQueueLimitsAsync("email", new QueueLimits { RatePerSecond = 0 }));
        var concurrency = await Assert.ThrowsAsync<JobValidationException>(() => Limits.SetQueueLimitsAsync("email", new QueueLimits { MaxRunning = 0 }));

        Assert.Equal("rate_limit", rate.Field);
        Assert.Equal("concurrency_limit", concurrency.Field);
        Assert.Empty(await Limits.GetQueueLimitsAsync());
    }

    [Fact]
    public async Task A_concurrency_limit_caps_running_jobs_across_store_instances()
    {
        await Limits.SetQueueLimitsAsync("email", new QueueLimits { MaxRunning = 3 });
        for (var i = 0; i < 10; i++)
        {
            await EnqueueAsync("email");
        }

        var peer = await OpenPeerAsync();
        var first = await LeaseAsync(10, "w1", null, "email");
        var second = await peer.Store.LeaseAsync(new LeaseRequest("w2", ["email"], 10, LeaseLength));
        Assert.Equal(3, first.Count + second.Count);
        Assert.Empty(await LeaseAsync(10, "w1", null, "email"));

        await FinishAsync(JobOutcome.Complete(first[0].Token));
        Assert.Single(await peer.Store.LeaseAsync(new LeaseRequest("w2", ["email"], 10, LeaseLength)));
        Assert.Equal(3, (await Query.GetQueuesAsync()).Single(q => q.Queue == "email")[JobState.Running]);
    }

    [Fact]
    public async Task A_rate_limit_caps_starts_per_second_across_store_instances()
    {
        await Limits.SetQueueLimitsAsync("email", new QueueLimits { RatePerSecond = 5 });
        for (var i = 0; i < 60; i++)
        {
            await EnqueueAsync("email");
        }

        var peer = await OpenPeerAsync();
        var started = new List<int>();
        for (var step = 0; step < 20; step++)
        {
            var mine = await LeaseAsync(50, "w1", null, "email");
            var theirs = await peer.Store.LeaseAsync(new LeaseRequest("w2", ["email"], 50, LeaseLength));
            started.Add(mine.Count + theirs.Count);
            Time.Advance(TimeSpan.FromMilliseconds(100));
        }

        // A full bucket of 5 at once, then 5 per second: 5 + 19 × 0.5 ≈ 14 over 1.9 s, never more.
        Assert.Equal(5, started[0]);
        Assert.InRange(started.Sum(), 13, 15);
        for (var window = 1; window + 10 <= started.Count; window++)
        {
            Assert.InRange(started.Skip(window).Take(10).Sum(), 4, 6);
        }
    }

    [Fact]
    public async Task A_rate_limit_does_not_slow_other_queues()
    {
        await Limits.SetQueueLimitsAsync("email", new QueueLimits { RatePerSecond = 1 });
        for (var i = 0; i < 5; i++)
        {
            await EnqueueAsync("email");
            await EnqueueAsync("default");
        }

        var leased = await LeaseAsync(10, "w1", null, "email", "default");

        Assert.Equal(1, leased.Count(j => j.Queue == "email"));
        Assert.Equal(5, leased.Count(j => j.Queue == "default"));
    }

    [Fact]
    public async Task A_pause_is_honoured_by_another_store_instance_and_so_is_the_resume()
    {
        await EnqueueAsync("email");
        var peer = await OpenPeerAsync();

        await Store.SetQueuePausedAsync("email", true);
        Assert.Empty(await peer.Store.LeaseAsync(new LeaseRequest("w2", ["email"], 5, LeaseLength)));
        Assert.Empty(await LeaseAsync(5, "w1", null, "email"));

        await peer.Store.SetQueuePausedAsync("email", false);
        Assert.Single(await LeaseAsync(5, "w1", null, "email"));
    }

    [Fact]
    public async Task A_queue_with_its_own_retention_is_purged_by_it_and_the_others_by_the_default()
    {
        async Task<long> CompletedIn(string queue)
        {
            await EnqueueAsync(queue);
            var leased = await LeaseOneAsync(queue: queue);
            await FinishAsync(JobOutcome.Complete(leased.Token));
            return leased.Token.JobId;
        }

        var audit = await CompletedIn("audit");
        var thumbs = await CompletedIn("thumbs");
        var other = await CompletedIn("default");
        var policy = RetentionPolicy.Default with
        {
            Queues = new Dictionary<string, RetentionPolicy>
            {
                ["audit"] = RetentionPolicy.Default with { Completed = TimeSpan.FromDays(30) },
                ["thumbs"] = RetentionPolicy.Default with { Completed = TimeSpan.FromMinutes(5) },
            },
        };

        Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, await Store.PurgeAsync(policy));
        Assert.Null(await Query.GetJobAsync(thumbs));

        Time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await Store.PurgeAsync(policy));
        Assert.Null(await Query.GetJobAsync(other));
        Assert.NotNull(await Query.GetJobAsync(audit));

        Time.Advance(TimeSpan.FromDays(30));
        Assert.Equal(1, await Store.PurgeAsync(policy));
        Assert.Null(await Query.GetJobAsync(audit));
    }
}
