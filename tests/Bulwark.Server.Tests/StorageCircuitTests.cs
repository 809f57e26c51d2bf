using System.Net;
using Bulwark.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Server.Tests;

public sealed class StorageCircuitTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(circuitThreshold: 3);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Failing_writes_open_the_circuit_then_enqueue_is_503_with_Retry_After_and_readiness_fails()
    {
        _app.Faults.FailWrites();

        for (var i = 0; i < 3; i++)
        {
            using var failed = await _app.PostAsync("/api/v1/jobs", """{"queue":"default","type":"demo.noop"}""");
            await BadInputTests.AssertProblemAsync(failed, HttpStatusCode.ServiceUnavailable, "store failed");
        }

        var injectedBefore = _app.Faults.InjectedFailures;
        using var refused = await _app.PostAsync("/api/v1/jobs", """{"queue":"default","type":"demo.noop"}""");
        using var ready = await _app.GetAsync("/health/ready");
        using var bare = await _app.GetAsync("/health");

        await BadInputTests.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "storage circuit opened");
        // The bare path answers as readiness does (runbooks and load balancers probe /health).
        Assert.Equal(HttpStatusCode.ServiceUnavailable, bare.StatusCode);
        Assert.Contains("storage_circuit", await bare.Content.ReadAsStringAsync());
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(injectedBefore, _app.Faults.InjectedFailures); // refused at once: the store was not even asked
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("storage_circuit", await ready.Content.ReadAsStringAsync());
        Assert.Equal(0, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task The_circuit_closes_by_itself_after_the_fault_clears_and_enqueue_works_again()
    {
        _app.Faults.FailWrites();
        for (var i = 0; i < 3; i++)
        {
            using var failed = await _app.PostAsync("/api/v1/jobs", """{"queue":"default","type":"demo.noop"}""");
        }

        var circuit = _app.Services.GetRequiredService<StorageCircuit>();
        Assert.Equal(StorageCircuitState.Open, circuit.State);

        _app.Faults.Heal();
        _app.Time.Advance(TimeSpan.FromSeconds(11)); // past the reset time: the prober's next tick sends one probe

        await PollAsync(() => circuit.State == StorageCircuitState.Closed);
        using var ready = await _app.GetAsync("/health/ready");
        using var bare = await _app.GetAsync("/health");
        var id = await _app.EnqueueAsync();

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bare.StatusCode);
        Assert.True(id > 0);
        Assert.Equal(1, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task A_probe_that_fails_keeps_the_circuit_open_for_another_reset_time()
    {
        _app.Faults.FailWrites();
        for (var i = 0; i < 3; i++)
        {
            using var failed = await _app.PostAsync("/api/v1/jobs", """{"queue":"default","type":"demo.noop"}""");
        }

        _app.Time.Advance(TimeSpan.FromSeconds(11));
        using var ready = await _app.GetAsync("/health/ready"); // readiness probes too; the store still fails

        var circuit = _app.Services.GetRequiredService<StorageCircuit>();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(StorageCircuitState.Open, circuit.State);
        Assert.True(circuit.RetryAfter > TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Readiness_fails_when_the_store_does_not_answer_reads()
    {
        _app.Faults.FailReads();

        using var ready = await _app.GetAsync("/health/ready");
        using var live = await _app.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("IOException", await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    private static async Task PollAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(20);
        }
    }
}
