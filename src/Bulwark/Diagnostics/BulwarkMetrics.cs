using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Diagnostics;

/// <summary>
/// The one <see cref="Meter"/> of a host and every instrument on it. Components record through its methods; gauges
/// read the latest values that samplers set (queue depth from the store, worker state from the runtime).
/// </summary>
public sealed class BulwarkMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _enqueued;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _deadLettered;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _wait;
    private readonly Counter<long> _stalledReclaimed;
    private readonly Counter<long> _recoveryReclaimed;
    private readonly Counter<long> _leaseLost;
    private readonly Counter<long> _persistenceErrors;
    private readonly Counter<long> _duplicates;
    private readonly ConcurrentDictionary<(string Queue, string State), long> _depth = new();
    private readonly ConcurrentDictionary<string, WorkerGauge> _workers = new();
    private FleetGauge _fleet = new(new Dictionary<WorkerState, long>(), 0);
    private Dictionary<string, double> _oldestReady = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _circuits = new();
    private readonly ConcurrentDictionary<string, (long Warning, long Hard)> _limits = new();

    /// <summary>Creates the meter (through <see cref="IMeterFactory"/> when one is given, as ASP.NET Core hosts do).</summary>
    public BulwarkMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(Telemetry.MeterName) ?? new Meter(Telemetry.MeterName);
        _enqueued = _meter.CreateCounter<long>(Telemetry.JobsEnqueued, description: "Jobs accepted and made durable.");
        _completed = _meter.CreateCounter<long>(Telemetry.JobsCompleted, description: "Jobs completed.");
        _failed = _meter.CreateCounter<long>(Telemetry.JobsFailed, description: "Attempts that failed, by category.");
        _retried = _meter.CreateCounter<long>(Telemetry.JobsRetried, description: "Attempts scheduled for retry.");
        _deadLettered = _meter.CreateCounter<long>(Telemetry.JobsDeadLettered, description: "Jobs moved to dead letter.");
        _duration = _meter.CreateHistogram<double>(Telemetry.JobDuration, unit: "s", description: "Handler run time.");
        _wait = _meter.CreateHistogram<double>(Telemetry.JobWait, unit: "s", description: "Time from due to start.");
        _stalledReclaimed = _meter.CreateCounter<long>(Telemetry.StalledReclaimed, description: "Running jobs reclaimed after their lease expired or owner died.");
        _recoveryReclaimed = _meter.CreateCounter<long>(Telemetry.RecoveryReclaimed, description: "Jobs reclaimed at worker start-up recovery.");
        _leaseLost = _meter.CreateCounter<long>(Telemetry.LeaseLost, description: "Leases a worker lost; their late outcomes are refused.");
        _persistenceErrors = _meter.CreateCounter<long>(Telemetry.PersistenceErrors, description: "Store operations that failed.");
        _duplicates = _meter.CreateCounter<long>(Telemetry.DuplicateExecutions, description: "Handler runs whose outcome was refused because another run owns the job.");
        _meter.CreateObservableGauge(Telemetry.QueueDepth, ObserveDepth, description: "Jobs per queue and state.");
        _meter.CreateObservableGauge(Telemetry.ProcessWorkers, () => _workers.Count, description: "Worker runtimes in this process (the fleet is bulwark_workers).");
        _meter.CreateObservableGauge(Telemetry.WorkerUtilization, ObserveUtilization, description: "Busy slots / slots, per worker runtime of this process.");
        _meter.CreateObservableGauge(Telemetry.FleetWorkers, ObserveFleet, description: "Workers of the whole fleet by state, from the store's registry (active, draining, dead, stopped).");
        _meter.CreateObservableGauge(Telemetry.FleetUtilization, () => _fleet.Utilization, description: "Busy slots / slots over every active or draining worker of the fleet, from the store's registry.");
        _meter.CreateObservableGauge(Telemetry.QueueOldestReadyAge, ObserveOldestReady, unit: "s", description: "Age of the oldest ready job per queue (0 when none is ready): how long work has waited for a slot.");
        _meter.CreateObservableGauge(Telemetry.WorkerMemory, ObserveMemory, unit: "By", description: "Worker process working set.");
        _meter.CreateObservableGauge(Telemetry.CircuitBreakerState, ObserveCircuits, description: "0 closed, 1 half-open, 2 open; per job type, and 'storage'.");
        _meter.CreateObservableGauge(Telemetry.QueueWarningDepth, () => _limits.Select(kv => new Measurement<long>(kv.Value.Warning, new KeyValuePair<string, object?>("queue", kv.Key))), description: "Depth (pending + scheduled + ready) above which a queue is alerted on.");
        _meter.CreateObservableGauge(Telemetry.QueueHardLimit, () => _limits.Select(kv => new Measurement<long>(kv.Value.Hard, new KeyValuePair<string, object?>("queue", kv.Key))), description: "Depth at which enqueue is refused with 429.");
    }

    /// <summary>The meter, for hosts that register it with an exporter.</summary>
    public Meter Meter => _meter;

    /// <summary>Records accepted jobs.</summary>
    public void JobsEnqueued(string queue, long count) => _enqueued.Add(count, new KeyValuePair<string, object?>("queue", queue));

    /// <summary>Records a completion and its duration.</summary>
    public void JobCompleted(string queue, string type, TimeSpan duration)
    {
        var tags = Tags(queue, type);
        _completed.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>Records a failed attempt.</summary>
    public void JobFailed(string queue, string type, FailureCategory category, TimeSpan duration)
    {
        _failed.Add(1, new("queue", queue), new("type", type), new("category", category.ToString().ToLowerInvariant()));
        _duration.Record(duration.TotalSeconds, Tags(queue, type));
    }

    /// <summary>Records a retry.</summary>
    public void JobRetried(string queue, string type) => _retried.Add(1, Tags(queue, type));

    /// <summary>Records dead letters.</summary>
    public void JobsDeadLettered(string queue, long count, string reason) => _deadLettered.Add(count, new("queue", queue), new("reason", reason));

    /// <summary>Records the wait from due to start.</summary>
    public void JobWaited(string queue, TimeSpan wait) => _wait.Record(Math.Max(0, wait.TotalSeconds), new KeyValuePair<string, object?>("queue", queue));

    /// <summary>Records stalled jobs reclaimed by maintenance.</summary>
    public void StalledReclaimed(long count) => _stalledReclaimed.Add(count);

    /// <summary>Records jobs reclaimed at start-up recovery.</summary>
    public void RecoveryReclaimed(long count) => _recoveryReclaimed.Add(count);

    /// <summary>Records lost leases.</summary>
    public void LeaseLost(long count = 1) => _leaseLost.Add(count);

    /// <summary>Records a refused late outcome: a duplicate execution, counted, never hidden.</summary>
    public void DuplicateExecution(long count = 1) => _duplicates.Add(count);

    /// <summary>Records a failed store operation.</summary>
    public void PersistenceError(string operation) => _persistenceErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));

    /// <summary>
    /// Publishes the incident counters (stalled and recovery reclaims, lost leases, persistence errors) at zero, so that a
    /// scrape shows them, and alerts on their rate work, before the first incident. Hosts call it once at start.
    /// </summary>
    public void PublishZeroes()
    {
        _stalledReclaimed.Add(0);
        _recoveryReclaimed.Add(0);
        _leaseLost.Add(0);
        _persistenceErrors.Add(0);
        _duplicates.Add(0);
    }

    /// <summary>
    /// Replaces the fleet snapshot from the store's worker registry: workers per state (every state is published, at zero
    /// when none is in it) and utilisation over the live ones. Only a host that samples the registry (the server) sets it.
    /// </summary>
    public void SetFleet(IEnumerable<WorkerInfo> workers)
    {
        ArgumentNullException.ThrowIfNull(workers);
        var byState = Enum.GetValues<WorkerState>().ToDictionary(s => s, _ => 0L);
        long busy = 0, slots = 0;
        foreach (var worker in workers)
        {
            byState[worker.State]++;
            if (worker.State is WorkerState.Active or WorkerState.Draining)
            {
                busy += worker.Registration.ActiveJobs;
                slots += worker.Registration.Concurrency;
            }
        }

        _fleet = new FleetGauge(byState, slots == 0 ? 0 : (double)busy / slots);
    }

    /// <summary>Replaces the oldest-ready-job ages (queue → when its oldest ready job became due; null when none is ready).</summary>
    public void SetOldestReady(IEnumerable<(string Queue, DateTimeOffset? OldestReadyAt)> queues, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(queues);
        _oldestReady = queues.ToDictionary(q => q.Queue, q => q.OldestReadyAt is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0, StringComparer.Ordinal);
    }

    /// <summary>Replaces the queue depth snapshot.</summary>
    public void SetQueueDepth(IEnumerable<(string Queue, JobState State, long Count)> depth)
    {
        ArgumentNullException.ThrowIfNull(depth);
        var seen = new HashSet<(string, string)>();
        foreach (var (queue, state, count) in depth)
        {
            var key = (queue, state.ToName());
            seen.Add(key);
            _depth[key] = count;
        }

        foreach (var key in _depth.Keys.Where(k => !seen.Contains(k)).ToArray())
        {
            _depth.TryRemove(key, out _);
        }
    }

    /// <summary>Sets a queue's warning depth and hard limit, so alerts can compare <c>bulwark_queue_depth</c> with them.</summary>
    public void SetQueueLimits(string queue, long warningDepth, long hardLimit) => _limits[queue] = (warningDepth, hardLimit);

    /// <summary>Sets one worker runtime's gauges.</summary>
    public void SetWorker(string workerName, int busy, int slots, long memoryBytes) => _workers[workerName] = new WorkerGauge(busy, slots, memoryBytes);

    /// <summary>Removes a stopped worker runtime's gauges.</summary>
    public void RemoveWorker(string workerName) => _workers.TryRemove(workerName, out _);

    /// <summary>Sets a circuit's state: 0 closed, 1 half-open, 2 open.</summary>
    public void SetCircuit(string name, int state) => _circuits[name] = state;

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private static KeyValuePair<string, object?>[] Tags(string queue, string type) => [new("queue", queue), new("type", type)];

    private IEnumerable<Measurement<long>> ObserveDepth() =>
        _depth.Select(kv => new Measurement<long>(kv.Value, new("queue", kv.Key.Queue), new("state", kv.Key.State)));

    private IEnumerable<Measurement<double>> ObserveUtilization() =>
        _workers.Select(kv => new Measurement<double>(kv.Value.Slots == 0 ? 0 : (double)kv.Value.Busy / kv.Value.Slots, new KeyValuePair<string, object?>("worker", kv.Key)));

    private IEnumerable<Measurement<long>> ObserveMemory() =>
        _workers.Select(kv => new Measurement<long>(kv.Value.MemoryBytes, new KeyValuePair<string, object?>("worker", kv.Key)));

    private IEnumerable<Measurement<int>> ObserveCircuits() =>
        _circuits.Select(kv => new Measurement<int>(kv.Value, new KeyValuePair<string, object?>("circuit", kv.Key)));

    private IEnumerable<Measurement<long>> ObserveFleet() =>
        _fleet.ByState.Select(kv => new Measurement<long>(kv.Value, new KeyValuePair<string, object?>("state", kv.Key.ToString().ToLowerInvariant())));

    private IEnumerable<Measurement<double>> ObserveOldestReady() =>
        _oldestReady.Select(kv => new Measurement<double>(kv.Value, new KeyValuePair<string, object?>("queue", kv.Key)));

    private readonly record struct WorkerGauge(int Busy, int Slots, long MemoryBytes);

    private sealed record FleetGauge(IReadOnlyDictionary<WorkerState, long> ByState, double Utilization);
}
