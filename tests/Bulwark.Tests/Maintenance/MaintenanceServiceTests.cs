using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Maintenance;
using Bulwark.Storage;
using Bulwark.Testing;
using Bulwark.Workers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Tests.Maintenance;

/// <summary>
/// Maintenance passes at the moment a silent worker may be declared dead (not up to one interval later) and wakes this
/// host's workers when a pass makes jobs ready.
/// </summary>
public sealed class MaintenanceServiceTests
{
    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(10);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly MaintenanceOptions _options = new() { Interval = TimeSpan.FromSeconds(1), WorkerDeadAfter = TimeSpan.FromSeconds(10) };

    [Fact]
    public void A_worker_about_to_pass_its_silence_limit_brings_the_next_pass_forward_to_that_moment()
    {
        var now = _time.GetUtcNow();
        var workers = new[] { Worker("recent", now - TimeSpan.FromSeconds(1)), Worker("silent", now - TimeSpan.FromMilliseconds(9_700)) };

        Assert.Equal(TimeSpan.FromMilliseconds(300) + Margin, MaintenanceService.DelayUntilNextPass(workers, now, _options));
    }

    [Fact]
    public void Workers_that_beat_recently_leave_the_interval_unchanged()
    {
        var now = _time.GetUtcNow();
        var workers = new[] { Worker("a", now), Worker("b", now - TimeSpan.FromSeconds(8)) };

        Assert.Equal(_options.Interval, MaintenanceService.DelayUntilNextPass(workers, now, _options));
    }

    [Fact]
    public void Stopped_and_dead_workers_and_deadlines_already_passed_do_not_shorten_the_wait()
    {
        var now = _time.GetUtcNow();
        var workers = new[]
        {
            Worker("stopped", now - TimeSpan.FromMilliseconds(9_900), WorkerState.Stopped),
            Worker("dead", now - TimeSpan.FromMilliseconds(9_900), WorkerState.Dead),
            // Past its deadline by this process's clock but not declared dead by the store: the clocks differ, so no spin.
            Worker("skewed", now - TimeSpan.FromSeconds(30)),
        };

        Assert.Equal(_options.Interval, MaintenanceService.DelayUntilNextPass(workers, now, _options));
    }

    [Fact]
    public async Task A_killed_worker_is_reclaimed_at_its_deadline_and_the_host_signal_wakes_workers()
    {
        var store = new InMemoryJobStore(_time);
        var signal = new JobSignal();
        var maintenance = new MaintenanceService(store, _options, _time, new BulwarkMetrics(), NullLogger<MaintenanceService>.Instance, recurring: null, store, signal);
        await store.RegisterWorkerAsync(Registration("victim"));
        await store.EnqueueAsync([new NewJob { Queue = "q", Type = "demo.sleep", Payload = "{}" }]);
        // A long lease: only the worker's silence can bring the job back here.
        var leased = Assert.Single(await store.LeaseAsync(new LeaseRequest("victim", ["q"], 1, TimeSpan.FromMinutes(5))));

        _time.Advance(TimeSpan.FromMilliseconds(9_400));
        Assert.Equal(0, (await maintenance.RunOnceAsync()).Reclaim.Total);
        var delay = await maintenance.NextPassDelayAsync(CancellationToken.None);
        Assert.Equal(TimeSpan.FromMilliseconds(600) + Margin, delay);

        var woken = signal.WaitAsync(TimeSpan.FromHours(1), _time, CancellationToken.None);
        Assert.False(woken.IsCompleted);
        _time.Advance(delay);
        var pass = await maintenance.RunOnceAsync();

        Assert.Equal([leased.Id], pass.Reclaim.Reclaimed);
        Assert.Equal(["victim"], pass.Reclaim.DeadWorkers);
        // The signal completes its waiters asynchronously: allow them a (real-time) moment, failing only if none comes.
        await woken.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(JobState.Ready, (await store.GetJobAsync(leased.Id))!.State);
        Assert.Equal(_options.Interval, await maintenance.NextPassDelayAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_pass_that_promotes_a_due_job_wakes_workers()
    {
        var store = new InMemoryJobStore(_time);
        var signal = new JobSignal();
        var maintenance = new MaintenanceService(store, _options, _time, new BulwarkMetrics(), NullLogger<MaintenanceService>.Instance, recurring: null, store, signal);
        await store.EnqueueAsync([new NewJob { Queue = "q", Type = "demo.noop", Payload = "{}", RunAt = _time.GetUtcNow().AddMinutes(1) }]);
        Assert.Equal(0, (await maintenance.RunOnceAsync()).Promoted);
        var woken = signal.WaitAsync(TimeSpan.FromHours(1), _time, CancellationToken.None);

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, (await maintenance.RunOnceAsync()).Promoted);
        await woken.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Without_a_query_passes_keep_the_interval()
    {
        var store = new InMemoryJobStore(_time);
        var maintenance = new MaintenanceService(store, _options, _time, new BulwarkMetrics(), NullLogger<MaintenanceService>.Instance, recurring: null, query: null, signal: null);
        await store.RegisterWorkerAsync(Registration("silent"));
        _time.Advance(TimeSpan.FromMilliseconds(9_900));

        Assert.Equal(_options.Interval, await maintenance.NextPassDelayAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_purge_keeps_a_queues_finished_jobs_as_its_stored_policy_says_over_the_configured_retention()
    {
        var store = new InMemoryJobStore(_time);
        var options = new MaintenanceOptions { PurgeInterval = TimeSpan.FromMinutes(1) };
        // Configured: thumbs 30 days. Stored (the API's policy): thumbs 1 hour, which wins.
        options.Retention = options.Retention with { Queues = new Dictionary<string, RetentionPolicy> { ["thumbs"] = RetentionPolicy.Keeping(TimeSpan.FromDays(30)) } };
        await store.SetQueuePolicyAsync("thumbs", new QueuePolicy { Retention = TimeSpan.FromHours(1) });
        var maintenance = new MaintenanceService(store, options, _time, new BulwarkMetrics(), NullLogger<MaintenanceService>.Instance);
        var ids = await store.EnqueueAsync([Job("thumbs"), Job("other")]);
        foreach (var id in ids)
        {
            await store.CancelAsync(id.Id);
        }

        _time.Advance(TimeSpan.FromHours(2));
        var pass = await maintenance.RunOnceAsync();

        Assert.Equal(1, pass.Purged);
        Assert.Null(await store.GetJobAsync(ids[0].Id));
        Assert.NotNull(await store.GetJobAsync(ids[1].Id)); // cancelled jobs of other queues: 7 days

        static NewJob Job(string queue) => JobValidator.Validate(new NewJob { Queue = queue, Type = "t", Payload = "{}" });
    }

    [Fact]
    public async Task A_purge_deletes_stopped_and_dead_worker_registrations_past_their_retention_and_keeps_live_ones()
    {
        var store = new InMemoryJobStore(_time);
        var options = new MaintenanceOptions { WorkerDeadAfter = TimeSpan.FromSeconds(10), PurgeInterval = TimeSpan.FromMinutes(1), WorkerRetention = TimeSpan.FromHours(1) };
        var maintenance = new MaintenanceService(store, options, _time, new BulwarkMetrics(), NullLogger<MaintenanceService>.Instance);
        await store.RegisterWorkerAsync(Registration("stopped"));
        await store.DeregisterWorkerAsync("stopped");
        await store.RegisterWorkerAsync(Registration("killed"));
        var live = Registration("live");
        await store.RegisterWorkerAsync(live);
        _time.Advance(TimeSpan.FromSeconds(11));
        await store.HeartbeatAsync(new WorkerHeartbeat(live, [], TimeSpan.FromSeconds(10)));
        var first = await maintenance.RunOnceAsync();
        Assert.Equal(["killed"], first.Reclaim.DeadWorkers);
        Assert.Equal(0, first.PurgedWorkers);

        _time.Advance(TimeSpan.FromHours(1));
        await store.HeartbeatAsync(new WorkerHeartbeat(live, [], TimeSpan.FromSeconds(10)));
        var pass = await maintenance.RunOnceAsync();

        Assert.Equal(2, pass.PurgedWorkers);
        Assert.Equal(0, pass.Errors);
        Assert.Equal(["live"], (await store.ListWorkersAsync()).Select(w => w.Registration.Id));
    }

    [Fact]
    public void A_worker_retention_shorter_than_the_dead_worker_timeout_is_refused_saying_what_to_change()
    {
        var options = new MaintenanceOptions { WorkerDeadAfter = TimeSpan.FromSeconds(10), WorkerRetention = TimeSpan.FromSeconds(5) };

        var error = Assert.Throws<ArgumentException>(() => new MaintenanceService(new InMemoryJobStore(_time), options, _time, new BulwarkMetrics(), NullLogger<MaintenanceService>.Instance));

        Assert.Contains("WorkerRetention must be at least WorkerDeadAfter (10s; got 5s)", error.Message, StringComparison.Ordinal);
    }

    private WorkerRegistration Registration(string id) => new()
    {
        Id = id,
        Name = id,
        Host = "test-host",
        ProcessId = 1,
        Queues = ["q"],
        Concurrency = 1,
        StartedAt = _time.GetUtcNow(),
    };

    private WorkerInfo Worker(string id, DateTimeOffset heartbeatAt, WorkerState state = WorkerState.Active) =>
        new() { Registration = Registration(id) with { State = state }, HeartbeatAt = heartbeatAt, State = state };
}
