using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Workers;
using Xunit;

namespace Bulwark.Worker.Tests;

/// <summary>Breakers kept in the store: opened by hand for the whole fleet, and each worker's own ones reported to it.</summary>
public sealed class FleetCircuitTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_type_opened_by_hand_in_the_store_is_left_out_by_every_worker_within_one_poll_and_resumed_after_close()
    {
        await using var one = await StartAsync();
        await using var two = await StartAsync(one);
        Assert.Equal(0, await one.Runtime.RunOnceAsync()); // both read the fleet's (empty) breakers now
        Assert.Equal(0, await two.Runtime.RunOnceAsync());

        await one.Store.OpenCircuitAsync("email");
        var emails = new[] { await one.EnqueueAsync("email"), await one.EnqueueAsync("email") };
        var other = await one.EnqueueAsync("noop");
        one.Time.Advance(Poll);

        Assert.Equal(1, await one.Runtime.RunOnceAsync()); // the other type only
        Assert.Equal(0, await two.Runtime.RunOnceAsync());
        await one.WaitForStateAsync(other, JobState.Completed);
        foreach (var id in emails)
        {
            Assert.Equal(JobState.Ready, (await one.GetAsync(id)).State);
        }

        Assert.True(await one.Store.CloseCircuitAsync("email"));
        one.Time.Advance(Poll);
        Assert.Equal(2, await one.Runtime.RunOnceAsync() + await two.Runtime.RunOnceAsync()); // both emails leased again
        await one.SettleAsync();
        await two.SettleAsync();
        foreach (var id in emails)
        {
            Assert.Equal(JobState.Completed, (await one.GetAsync(id)).State);
        }

        Assert.Equal(2, one.Counter("bulwark.circuit_breaker.transitions")); // opened, closed: seen by each worker
        Assert.Equal(2, two.Counter("bulwark.circuit_breaker.transitions"));
    }

    [Fact]
    public async Task The_fleet_is_read_at_most_once_per_poll_interval()
    {
        await using var h = await StartAsync();
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        await h.Store.OpenCircuitAsync("email");
        var id = await h.EnqueueAsync("email");

        // Within the interval the worker still goes by what it read: one read per poll, not one per lease.
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.WaitForStateAsync(id, JobState.Completed);

        await h.EnqueueAsync("email");
        h.Time.Advance(Poll);
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
    }

    [Fact]
    public async Task A_failed_read_keeps_the_last_known_breakers_and_counts_the_error()
    {
        await using var h = await StartAsync();
        await h.Store.OpenCircuitAsync("email");
        var id = await h.EnqueueAsync("email");
        Assert.Equal(0, await h.Runtime.RunOnceAsync());

        h.Faults.FailReads();
        await h.Store.CloseCircuitAsync("email");
        h.Time.Advance(Poll);
        Assert.Equal(0, await h.Runtime.RunOnceAsync()); // the store did not answer: still held
        Assert.Equal(1, h.Counter("bulwark.persistence.errors"));

        h.Faults.Heal();
        h.Time.Advance(Poll);
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.WaitForStateAsync(id, JobState.Completed);
    }

    [Fact]
    public async Task A_workers_own_breaker_is_reported_to_the_fleet_as_it_opens_half_opens_and_closes()
    {
        var healthy = false;
        await using var h = await StartAsync(configure: o => { o.CircuitBreakerThreshold = 1; o.CircuitBreakerResetTime = TimeSpan.FromSeconds(30); },
            flaky: () => healthy);
        var start = h.Time.GetUtcNow();
        await h.EnqueueAsync("flaky", maxAttempts: 10, backoff: BackoffPolicy.Fixed(TimeSpan.Zero));
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.SettleAsync();

        h.Time.Advance(Poll);
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        var open = Assert.Single(await h.Store.ListCircuitsAsync());
        Assert.Equal(("flaky", CircuitState.Open, h.Runtime.Id, 1), (open.Type, open.State, open.WorkerId, open.ConsecutiveFailures));
        Assert.Equal(start, open.Since);
        Assert.Equal(start.AddSeconds(30), open.ResetAt);

        h.Time.Advance(TimeSpan.FromSeconds(30));
        healthy = true;
        Assert.Equal(1, await h.Runtime.RunOnceAsync()); // the trial; the report went first
        Assert.Equal(CircuitState.HalfOpen, Assert.Single(await h.Store.ListCircuitsAsync()).State);
        await h.SettleAsync();

        h.Time.Advance(Poll);
        await h.Runtime.RunOnceAsync();
        Assert.Empty(await h.Store.ListCircuitsAsync());
        Assert.Equal(3, h.Counter("bulwark.circuit_breaker.transitions")); // open, half-open, closed
    }

    [Fact]
    public async Task A_half_open_type_gets_no_trial_while_the_fleet_holds_it_by_hand()
    {
        await using var h = await StartAsync(configure: o => { o.CircuitBreakerThreshold = 1; o.CircuitBreakerResetTime = TimeSpan.FromSeconds(30); },
            flaky: () => false);
        await h.EnqueueAsync("flaky", maxAttempts: 10, backoff: BackoffPolicy.Fixed(TimeSpan.Zero));
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.SettleAsync();
        await h.Store.OpenCircuitAsync("flaky");

        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(CircuitState.HalfOpen, h.Runtime.Circuits.GetState("flaky"));
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
    }

    private static Task<WorkerHarness> StartAsync(WorkerHarness? sharing = null, Action<WorkerOptions>? configure = null, Func<bool>? flaky = null) =>
        WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("email", (_, _) => Task.CompletedTask)
                  .AddHandler<Empty>("noop", (_, _) => Task.CompletedTask)
                  .AddHandler<Empty>("flaky", (_, _) => flaky?.Invoke() != false ? Task.CompletedTask : throw new InvalidOperationException("down")),
            o => { o.PollInterval = Poll; o.Concurrency = 4; configure?.Invoke(o); },
            sharing: sharing);
}
