using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Xunit;

namespace Bulwark.StoreContract;

public abstract partial class JobStoreContractTests
{
    [Fact]
    public async Task A_breaker_opened_by_hand_is_seen_by_every_store_instance_and_keeps_its_since()
    {
        var opened = await Store.OpenCircuitAsync("demo.email");
        Assert.Equal(new CircuitBreakerRecord("demo.email", CircuitState.Open, null, Now, null, 0), opened);
        Assert.True(opened.Manual);

        Time.Advance(TimeSpan.FromMinutes(3));
        var again = await Store.OpenCircuitAsync("demo.email");
        Assert.Equal(opened.Since, again.Since);

        var (peer, _) = await OpenPeerAsync();
        Assert.Equal([opened], await peer.ListCircuitsAsync());
    }

    [Fact]
    public async Task Closing_removes_the_hand_opened_breaker_and_says_whether_one_was_open()
    {
        await Store.OpenCircuitAsync("demo.email");
        await Store.OpenCircuitAsync("demo.sms");

        Assert.True(await Store.CloseCircuitAsync("demo.email"));
        Assert.False(await Store.CloseCircuitAsync("demo.email"));
        Assert.Equal(["demo.sms"], (await Store.ListCircuitsAsync()).Select(b => b.Type));
    }

    [Theory]
    [InlineData("")]
    [InlineData("bad type!")]
    public async Task An_invalid_type_is_refused_with_the_reason(string type)
    {
        var open = await Assert.ThrowsAsync<JobValidationException>(() => Store.OpenCircuitAsync(type));
        var close = await Assert.ThrowsAsync<JobValidationException>(() => Store.CloseCircuitAsync(type));
        Assert.Contains("type", open.Message, StringComparison.Ordinal);
        Assert.Contains("type", close.Message, StringComparison.Ordinal);
        Assert.Empty(await Store.ListCircuitsAsync());
    }

    [Fact]
    public async Task A_workers_report_replaces_its_automatic_breakers_and_leaves_others_alone()
    {
        await RegisterAsync("w1", name: "one");
        await RegisterAsync("w2", name: "two");
        var since = Now.AddSeconds(-5);
        var email = new CircuitBreakerRecord("demo.email", CircuitState.Open, null, since, since.AddSeconds(30), 5);
        var sms = new CircuitBreakerRecord("demo.sms", CircuitState.HalfOpen, null, since, since.AddSeconds(30), 7);
        await Store.OpenCircuitAsync("demo.email");
        await Store.ReportCircuitsAsync("w1", [email, sms]);
        await Store.ReportCircuitsAsync("w2", [email]);

        var listed = await Store.ListCircuitsAsync();
        Assert.Equal(
            [("demo.email", (string?)null), ("demo.email", "w1"), ("demo.email", "w2"), ("demo.sms", "w1")],
            listed.Select(b => (b.Type, b.WorkerId)));
        Assert.Equal(sms with { WorkerId = "w1" }, listed[3]);

        await Store.ReportCircuitsAsync("w1", [sms with { State = CircuitState.Open, ConsecutiveFailures = 8 }]);
        await Store.ReportCircuitsAsync("w2", []);
        listed = await Store.ListCircuitsAsync();
        Assert.Equal([("demo.email", (string?)null, CircuitState.Open), ("demo.sms", "w1", CircuitState.Open)], listed.Select(b => (b.Type, b.WorkerId, b.State)));
        Assert.Equal(8, listed[1].ConsecutiveFailures);
    }

    [Fact]
    public async Task Automatic_breakers_of_a_stopped_worker_are_not_listed()
    {
        await RegisterAsync("w1");
        var since = Now;
        await Store.ReportCircuitsAsync("w1", [new CircuitBreakerRecord("demo.email", CircuitState.Open, null, since, since.AddSeconds(30), 5)]);
        Assert.Single(await Store.ListCircuitsAsync());

        await Store.DeregisterWorkerAsync("w1");

        Assert.Empty(await Store.ListCircuitsAsync());
    }
}
