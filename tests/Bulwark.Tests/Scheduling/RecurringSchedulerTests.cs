using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Bulwark.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Bulwark.Tests.Scheduling;

public sealed class RecurringSchedulerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 28, 23, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Definitions_declared_in_code_are_stored_by_the_first_pass_and_run_at_their_tick()
    {
        var store = new InMemoryJobStore(_time);
        var options = new RecurringSchedulerOptions();
        options.Definitions.Add(new RecurringJob { Name = "every-minute", Cron = "0 * * * * *", Queue = "q", Type = "t" });
        var scheduler = new RecurringScheduler(store, _time, options);

        Assert.Equal(0, await scheduler.RunOnceAsync());
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await scheduler.RunOnceAsync());

        Assert.Single((await store.ListJobsAsync(new JobListQuery("q"))).Items);
    }

    [Fact]
    public async Task A_schedule_in_a_time_zone_follows_its_daylight_saving_change()
    {
        var store = new InMemoryJobStore(_time);
        var scheduler = new RecurringScheduler(store, _time);
        // 02:30 Paris does not exist on 2026-03-29 (clocks jump 02:00 → 03:00); Cronos fires at 03:00 local, 01:00 UTC.
        await scheduler.DefineAsync(new RecurringJob { Name = "night", Cron = "0 30 2 * * *", TimeZone = "Europe/Paris", Queue = "q", Type = "t" });

        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), Assert.Single(await store.ListRecurringAsync()).NextTick);
    }

    [Theory]
    [InlineData("2026-03-28T23:00:00Z", 23)]
    [InlineData("2026-10-24T22:00:00Z", 25)]
    public async Task An_hourly_schedule_runs_on_every_real_hour_of_a_daylight_saving_day(string localMidnight, int runs)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse(localMidnight, System.Globalization.CultureInfo.InvariantCulture).AddMinutes(-1));
        var store = new InMemoryJobStore(time);
        var scheduler = new RecurringScheduler(store, time);
        await scheduler.DefineAsync(new RecurringJob { Name = "hourly", Cron = "0 0 * * * *", TimeZone = "Europe/Berlin", Queue = "q", Type = "t" });

        // From local midnight to just before the next one, a pass every minute.
        var end = DateTimeOffset.Parse(localMidnight, System.Globalization.CultureInfo.InvariantCulture).AddHours(runs);
        while (time.GetUtcNow() < end - TimeSpan.FromMinutes(1))
        {
            time.Advance(TimeSpan.FromMinutes(1));
            await scheduler.RunOnceAsync();
        }

        Assert.Equal(runs, (await store.ListJobsAsync(new JobListQuery("q", Limit: 100))).Items.Count);
    }

    [Fact]
    public void Bad_options_and_bad_code_definitions_are_refused_at_construction()
    {
        var store = new InMemoryJobStore(_time);
        Assert.Throws<ArgumentException>(() => new RecurringScheduler(store, _time, new RecurringSchedulerOptions { MisfireThreshold = TimeSpan.Zero }));
        var options = new RecurringSchedulerOptions();
        options.Definitions.Add(new RecurringJob { Name = "bad", Cron = "every night", Queue = "q", Type = "t" });

        var error = Assert.Throws<JobValidationException>(() => new RecurringScheduler(store, _time, options));

        Assert.Equal("cron", error.Field);
        Assert.Contains("'every night'", error.Reason, StringComparison.Ordinal);
    }
}
