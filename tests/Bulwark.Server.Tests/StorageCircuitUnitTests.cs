using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests;

public sealed class StorageCircuitUnitTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
    private InMemoryJobStore _memory = null!;
    private FaultInjectingJobStore _faults = null!;
    private StorageCircuit _circuit = null!;
    private CircuitBreakingJobStore _store = null!;

    public Task InitializeAsync()
    {
        _memory = new InMemoryJobStore(_time);
        _faults = new FaultInjectingJobStore(_memory, _memory);
        _circuit = new StorageCircuit(new StorageCircuitOptions { FailureThreshold = 2, ResetTimeout = TimeSpan.FromSeconds(10) }, _time);
        _store = new CircuitBreakingJobStore(_faults, _circuit);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task Fewer_consecutive_errors_than_the_threshold_leave_it_closed_and_a_success_resets_the_count()
    {
        _faults.FailNextWrites(1);
        await Assert.ThrowsAsync<IOException>(() => _store.PromoteDueAsync());
        await _store.PromoteDueAsync();
        _faults.FailNextWrites(1);
        await Assert.ThrowsAsync<IOException>(() => _store.PromoteDueAsync());

        Assert.Equal(StorageCircuitState.Closed, _circuit.State);
        Assert.Equal(1, _circuit.ConsecutiveErrors);
    }

    [Fact]
    public async Task While_open_writes_are_refused_without_reaching_the_store_and_leasing_returns_nothing()
    {
        await OpenAsync();
        _faults.Heal();
        var injected = _faults.InjectedFailures;

        var refusal = await Assert.ThrowsAsync<StorageCircuitOpenException>(() => _store.EnqueueAsync([JobValidator.Validate(new NewJob { Queue = "q", Type = "t", Payload = "{}" })]));
        var leased = await _store.LeaseAsync(new LeaseRequest("w", ["q"], 5, TimeSpan.FromSeconds(10)));

        Assert.Equal(TimeSpan.FromSeconds(10), refusal.RetryAfter);
        Assert.Empty(leased);
        Assert.Equal(injected, _faults.InjectedFailures);
        Assert.Empty(await _memory.GetQueuesAsync());
    }

    [Fact]
    public async Task After_the_reset_time_one_probe_goes_through_and_its_success_closes_the_circuit()
    {
        await OpenAsync();
        _faults.Heal();
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(StorageCircuitState.HalfOpen, _circuit.State);
        Assert.True(_circuit.TryEnter(out var probe));
        Assert.True(probe);
        Assert.False(_circuit.TryEnter(out _)); // only one probe at a time
        _circuit.AbandonProbe();

        Assert.Equal(StorageCircuitState.Closed, await _store.ProbeAsync());
        Assert.True((await _store.EnqueueAsync([JobValidator.Validate(new NewJob { Queue = "q", Type = "t", Payload = "{}" })]))[0].Id > 0);
    }

    [Fact]
    public async Task A_failed_probe_reopens_the_circuit_for_a_full_reset_time()
    {
        await OpenAsync();
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(StorageCircuitState.Open, await _store.ProbeAsync());
        Assert.Equal(TimeSpan.FromSeconds(10), _circuit.RetryAfter);
    }

    [Fact]
    public async Task Bad_input_is_not_a_storage_fault()
    {
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<JobValidationException>(() => _store.EnqueueAsync([JobValidator.Validate(new NewJob { Queue = "q", Type = "t", Payload = "{}", DependsOn = [999] })]));
        }

        Assert.Equal(StorageCircuitState.Closed, _circuit.State);
    }

    [Fact]
    public void Options_that_make_no_sense_are_refused_with_the_setting_to_change()
    {
        var ex = Assert.Throws<JobValidationException>(() => new StorageCircuit(new StorageCircuitOptions { FailureThreshold = 0 }));

        Assert.Contains("FailureThreshold", ex.Message);
    }

    [Fact]
    public void The_circuit_state_is_published_on_the_circuit_breaker_gauge()
    {
        using var metrics = new BulwarkMetrics();
        var circuit = new StorageCircuit(new StorageCircuitOptions { FailureThreshold = 1 }, _time, metrics);
        var values = new List<int>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name == "bulwark.circuit_breaker.state")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "circuit" && (string?)tag.Value == StorageCircuit.MetricName)
                {
                    values.Add(value);
                }
            }
        });
        listener.Start();

        circuit.RecordFailure("enqueue", new IOException("disk full"));
        listener.RecordObservableInstruments();

        Assert.Equal([2], values);
    }

    private async Task OpenAsync()
    {
        _faults.FailWrites();
        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<IOException>(() => _store.PromoteDueAsync());
        }

        Assert.Equal(StorageCircuitState.Open, _circuit.State);
    }
}
