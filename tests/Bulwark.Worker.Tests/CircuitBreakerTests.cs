using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Workers;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class CircuitBreakerTests
{
    [Fact]
    public async Task A_type_failing_repeatedly_opens_then_half_opens_for_one_trial_and_closes_on_success()
    {
        var healthy = false;
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("flaky", (_, _) => healthy ? Task.CompletedTask : throw new InvalidOperationException("down"))
                  .AddHandler<Empty>("noop", (_, _) => Task.CompletedTask),
            o => { o.Concurrency = 1; o.CircuitBreakerThreshold = 2; o.CircuitBreakerResetTime = TimeSpan.FromSeconds(30); });
        var flaky = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            flaky.Add(await h.EnqueueAsync("flaky", maxAttempts: 10, backoff: BackoffPolicy.Fixed(TimeSpan.FromHours(1))));
        }

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(1, await h.Runtime.RunOnceAsync());
            await h.SettleAsync();
        }

        Assert.Equal(CircuitState.Open, h.Runtime.Circuits.GetState("flaky"));
        var other = await h.EnqueueAsync("noop");
        Assert.Equal(1, await h.Runtime.RunOnceAsync()); // only the other type is leased
        await h.WaitForStateAsync(other, JobState.Completed);
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Ready, (await h.GetAsync(flaky[2])).State);

        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(CircuitState.HalfOpen, h.Runtime.Circuits.GetState("flaky"));
        h.Options.Concurrency = 4; // room for more, yet only one trial is let through
        healthy = true;
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        await h.SettleAsync();

        Assert.Equal(CircuitState.Closed, h.Runtime.Circuits.GetState("flaky"));
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.SettleAsync();
    }

    [Fact]
    public async Task A_failed_trial_opens_the_circuit_again()
    {
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("flaky", (_, _) => throw new InvalidOperationException("down")),
            o => { o.CircuitBreakerThreshold = 1; o.CircuitBreakerResetTime = TimeSpan.FromSeconds(30); });
        await h.EnqueueAsync("flaky", maxAttempts: 10, backoff: BackoffPolicy.Fixed(TimeSpan.Zero));
        await h.Runtime.RunOnceAsync();
        await h.SettleAsync();
        Assert.Equal(CircuitState.Open, h.Runtime.Circuits.GetState("flaky"));
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.SettleAsync();
        Assert.Equal(CircuitState.Open, h.Runtime.Circuits.GetState("flaky"));
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
    }

    [Fact]
    public async Task An_operator_can_open_and_close_a_circuit_by_hand_and_query_it()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask));
        var id = await h.EnqueueAsync("noop");
        h.Runtime.Circuits.Open("noop");
        var status = Assert.Single(h.Runtime.Circuits.List());
        Assert.Equal(new CircuitBreakerStatus("noop", CircuitState.Open, 0, true), status);

        h.Time.Advance(TimeSpan.FromHours(1)); // a manual open does not half-open by itself
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Equal(CircuitState.Open, h.Runtime.Circuits.GetState("noop"));

        h.Runtime.Circuits.Close("noop");
        Assert.Empty(h.Runtime.Circuits.List());
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.WaitForStateAsync(id, JobState.Completed);
    }
}
