using System.Diagnostics.Metrics;
using Bulwark.Client;
using Bulwark.Diagnostics;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Maintenance;
using Bulwark.Storage;
using Bulwark.Testing;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Worker.Tests;

/// <summary>
/// A worker runtime on an in-memory store with a fake clock. Tests drive its passes (<c>RunOnceAsync</c>, heartbeats,
/// maintenance) themselves; nothing runs in the background and no test sleeps.
/// </summary>
internal sealed class WorkerHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);

    private WorkerHarness(Action<BulwarkBuilder> handlers, Action<WorkerOptions>? configure, MaintenanceOptions? maintenance, WorkerHarness? sharing,
        ILoggerFactory? logging)
    {
        Time = sharing?.Time ?? new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        Store = sharing?.Store ?? new InMemoryJobStore(Time);
        Faults = new FaultInjectingJobStore(Store, Store);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        handlers(services.AddBulwark(b => b.UseStore(_ => Store)));
        _services = services.BuildServiceProvider();
        Metrics = _services.GetRequiredService<BulwarkMetrics>();
        Options = new WorkerOptions { Name = "test-worker", Concurrency = 4 };
        configure?.Invoke(Options);
        Runtime = new WorkerRuntime(
            Faults,
            _services.GetRequiredService<IServiceScopeFactory>(),
            new HandlerRegistry(_services.GetServices<HandlerRegistration>()),
            Options,
            Time,
            Metrics,
            new JobClientOptions().SerializerOptions,
            logging ?? NullLoggerFactory.Instance,
            () => WorkingSet,
            () => 0.5,
            collectMemory: () =>
            {
                Collections++;
                WorkingSet = WorkingSetAfterCollection ?? WorkingSet;
            });
        Maintenance = new MaintenanceService(Faults, maintenance ?? new MaintenanceOptions(), Time, Metrics, NullLogger<MaintenanceService>.Instance);

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, Metrics.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (_counters)
            {
                _counters[instrument.Name] = _counters.GetValueOrDefault(instrument.Name) + value;
            }
        });
        _listener.Start();
    }

    public FakeTimeProvider Time { get; }

    public InMemoryJobStore Store { get; }

    /// <summary>The store as the worker and maintenance see it: writes can be made to fail.</summary>
    public FaultInjectingJobStore Faults { get; }

    public BulwarkMetrics Metrics { get; }

    public WorkerOptions Options { get; }

    public WorkerRuntime Runtime { get; }

    public MaintenanceService Maintenance { get; }

    /// <summary>What the memory guard reads as the working set.</summary>
    public long WorkingSet { get; set; } = 50L * 1024 * 1024;

    /// <summary>What the working set becomes when the worker forces a full collection (null: unchanged).</summary>
    public long? WorkingSetAfterCollection { get; set; }

    /// <summary>Full collections the memory guard forced.</summary>
    public int Collections { get; private set; }

    /// <summary>
    /// Starts a worker; with <paramref name="sharing"/>, a second worker on that harness's store and clock; <paramref name="logging"/>
    /// receives the worker's log.
    /// </summary>
    public static async Task<WorkerHarness> StartAsync(Action<BulwarkBuilder> handlers, Action<WorkerOptions>? configure = null, MaintenanceOptions? maintenance = null, WorkerHarness? sharing = null,
        ILoggerFactory? logging = null)
    {
        var harness = new WorkerHarness(handlers, configure, maintenance, sharing, logging);
        await harness.Runtime.RegisterAsync(CancellationToken.None);
        return harness;
    }

    /// <summary>Total of a counter (by its instrument name, e.g. <c>bulwark.lease.lost</c>) recorded by this harness's metrics.</summary>
    public long Counter(string name)
    {
        lock (_counters)
        {
            return _counters.GetValueOrDefault(name);
        }
    }

    public async Task<long> EnqueueAsync(string type, string payload = "{}", int maxAttempts = 3, TimeSpan? timeout = null, BackoffPolicy? backoff = null, string queue = "default")
    {
        var job = JobValidator.Validate(new NewJob
        {
            Queue = queue,
            Type = type,
            Payload = payload,
            MaxAttempts = maxAttempts,
            Timeout = timeout ?? JobDefaults.Timeout,
            Backoff = backoff ?? BackoffPolicy.Fixed(TimeSpan.FromSeconds(1)),
        });
        var results = await Store.EnqueueAsync([job]);
        return results[0].Id;
    }

    public async Task<JobSnapshot> GetAsync(long id) => await Store.GetJobAsync(id) ?? throw new InvalidOperationException($"job {id} is missing");

    /// <summary>Writes outcomes until no slot is busy.</summary>
    public Task SettleAsync() => SettleAsync(() => Task.FromResult(Runtime.ActiveJobs == 0 && Runtime.FinishingJobs == 0));

    /// <summary>Writes outcomes (the completer's pass) until <paramref name="done"/> holds; fails after a real-time deadline.</summary>
    public async Task SettleAsync(Func<Task<bool>> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            await Runtime.Completer.RunOnceAsync();
            if (await done() && Runtime.Completer.PendingCount == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The worker did not settle: {Runtime.ActiveJobs} active, {Runtime.FinishingJobs} finishing, {Runtime.Completer.PendingCount} outcomes pending.");
            }

            await Task.Yield();
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
        }
    }

    /// <summary>Waits (polling, with a deadline) until the job reaches <paramref name="state"/> and every slot is free.</summary>
    public async Task<JobSnapshot> WaitForStateAsync(long id, JobState state)
    {
        JobSnapshot? job = null;
        await SettleAsync(async () =>
        {
            job = await Store.GetJobAsync(id);
            return job?.State == state && Runtime.ActiveJobs == 0 && Runtime.FinishingJobs == 0;
        });
        return job!;
    }

    public async ValueTask DisposeAsync()
    {
        Runtime.Dispose();
        _listener.Dispose();
        await _services.DisposeAsync();
    }
}
