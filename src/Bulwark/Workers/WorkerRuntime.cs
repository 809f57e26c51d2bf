using System.Diagnostics;
using System.Text.Json;
using Bulwark.Diagnostics;
using Bulwark.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// One worker: its slots, leases, heartbeat state and circuit breakers. The hosted service loops over its passes;
/// health probes read its state (<see cref="IsReady"/>: store reachable, not draining, not jammed by abandoned handlers).
/// Each job runs as a pipeline: lease → resolve handler → read payload → perform → normalise outcome → record.
/// </summary>
/// <remarks>
/// The rules live in parts; this class only moves jobs between them. <see cref="LeasingGate"/> decides what to lease,
/// <see cref="LeaseBook"/> holds every lease and answers the heartbeat, <see cref="Supervisor"/> enforces timeouts and
/// abandons hung handlers, <see cref="AttemptOutcomes"/> turns how an attempt ended into an outcome, and
/// <see cref="OutcomeRecorder"/> writes it through the <see cref="OutcomeCompleter"/>.
/// </remarks>
public sealed class WorkerRuntime : IDisposable
{
    private static readonly TimeSpan RecheckSlice = TimeSpan.FromMilliseconds(50);

    private readonly IJobStore _store;
    private readonly WorkerOptions _options;
    private readonly IReadOnlyList<string> _queues;
    private readonly TimeProvider _time;
    private readonly BulwarkMetrics _metrics;
    private readonly ILogger _logger;
    private readonly JobExecutor _executor;
    private readonly CircuitBreakers _circuits;
    private readonly FleetCircuits _fleetCircuits;
    private readonly LeaseBook _book;
    private readonly MemoryGuard _memory;
    private readonly LeasingGate _gate;
    private readonly Supervisor _supervisor;
    private readonly AttemptOutcomes _outcomes;
    private readonly OutcomeRecorder _recorder;
    private readonly ActivitySource _activities = new(Telemetry.ActivitySourceName);
    private readonly CancellationTokenSource _hardStop = new();
    private readonly JobSignal _slotFreed = new();
    private readonly JobPace _pace = new();
    private volatile bool _storeReachable = true;
    private volatile bool _registered;
    private long _heartbeats;
    private DateTimeOffset _startedAt;

    internal WorkerRuntime(
        IJobStore store,
        IServiceScopeFactory scopes,
        HandlerRegistry handlers,
        WorkerOptions options,
        TimeProvider time,
        BulwarkMetrics metrics,
        JsonSerializerOptions json,
        ILoggerFactory loggers,
        Func<long>? workingSet = null,
        Func<double>? random = null,
        Action? collectMemory = null)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new WorkerOptionsException("The worker options are not usable:" + Environment.NewLine + " - " + string.Join(Environment.NewLine + " - ", problems)) { Problems = problems };
        }

        _store = store;
        _options = options;
        _queues = options.EffectiveQueues;
        _time = time;
        _metrics = metrics;
        _logger = loggers.CreateLogger("Bulwark.Worker");
        random ??= Random.Shared.NextDouble;
        Name = options.Name;
        Id = $"{options.Name}-{Guid.NewGuid():N}"[..(options.Name.Length + 9)];
        _circuits = new CircuitBreakers(options.CircuitBreakerThreshold, options.CircuitBreakerResetTime, time, metrics, _logger);
        _fleetCircuits = new FleetCircuits(store, Id, _circuits, options.PollInterval, time, metrics, _logger);
        var policy = new OutcomePolicy(options.RetrySystemErrors, random);
        Completer = new OutcomeCompleter(store, options.CompleterBatchSize, metrics, _logger, policy.Decide);
        _book = new LeaseBook(metrics, _logger);
        _memory = new MemoryGuard(options, workingSet ?? (() => Environment.WorkingSet),
            collectMemory ?? (() => GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true)), time, _logger);
        _gate = new LeasingGate(options, Id, _book, _memory, _circuits, random, _logger, _fleetCircuits, time);
        _supervisor = new Supervisor(_book, options, time, _logger);
        _outcomes = new AttemptOutcomes(Id, policy, time);
        _recorder = new OutcomeRecorder(_book, Completer, _circuits, options.CircuitBreakerThreshold, _slotFreed, time, metrics, _logger);
        _executor = new JobExecutor(Id, Name, handlers, scopes, store, json, loggers);
    }

    /// <summary>Unique per process start: the lease owner.</summary>
    public string Id { get; }

    /// <summary>The stable name chosen by the operator.</summary>
    public string Name { get; }

    /// <summary>True once shutdown began: no more leasing.</summary>
    public bool IsDraining => _gate.IsDraining;

    /// <summary>True when the last store call succeeded.</summary>
    public bool IsStoreReachable => _storeReachable;

    /// <summary>True while working set is above the soft limit (leasing paused).</summary>
    public bool IsOverMemoryLimit => _memory.IsOverLimit;

    /// <summary>Ready to take work: registered, store reachable, not draining, not jammed by abandoned handlers.</summary>
    public bool IsReady => _registered && _storeReachable && !_gate.IsDraining && !_gate.IsJammed;

    /// <summary>Jobs holding a slot now (handlers running).</summary>
    public int ActiveJobs => _book.RunningCount;

    /// <summary>Jobs whose handler ended and whose outcome is not yet durable; their leases stay held and renewed.</summary>
    public int FinishingJobs => _book.FinishingCount;

    /// <summary>Handlers abandoned after ignoring their token, still running.</summary>
    public int AbandonedJobs => _book.AbandonedCount;

    /// <summary>Heartbeats that reached the store.</summary>
    public long Heartbeats => Interlocked.Read(ref _heartbeats);

    /// <summary>The per-type circuit breakers.</summary>
    public ICircuitBreakers Circuits => _circuits;

    internal OutcomeCompleter Completer { get; }

    internal WorkerOptions Options => _options;

    /// <inheritdoc cref="LeasingGate.FreeSlots"/>
    internal int FreeSlots => _gate.FreeSlots;

    /// <summary>Registers with the store (recovering a predecessor of the same name) and logs what was reclaimed.</summary>
    internal async Task<ReclaimResult> RegisterAsync(CancellationToken cancellationToken)
    {
        _startedAt = _time.GetUtcNow();
        var reclaimed = await _store.RegisterWorkerAsync(Registration(_memory.Read()), cancellationToken);
        _registered = true;
        _metrics.RecoveryReclaimed(reclaimed.Total);
        WorkerLog.Registered(_logger, Id, Name, string.Join(',', _queues), _options.Concurrency);
        WorkerLog.RecoveryCompleted(_logger, reclaimed.Total);
        return reclaimed;
    }

    /// <summary>
    /// One leasing pass: supervise running jobs (timeouts, abandonment), ask the gate what may be leased, lease it and
    /// start what the gate admits. Returns how many jobs were started.
    /// </summary>
    internal async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        foreach (var run in _supervisor.SuperviseOnce())
        {
            _ = _recorder.RecordAsync(run, _outcomes.Abandoned(run, _options.AbandonGracePeriod), _time.GetElapsedTime(run.StartedTimestamp));
        }

        var memory = _memory.ReadForPass();
        _metrics.SetWorker(Name, _book.RunningCount, _options.Concurrency, memory);
        if (_hardStop.IsCancellationRequested)
        {
            return 0;
        }

        var decision = _gate.Decide(memory);
        if (decision.BlockedBecause is { } why)
        {
            // Nothing starts here for a while: jobs leased ahead go back for other workers rather than wait.
            GiveBackBuffered(_book.Buffer.TakeAll(), why);
        }

        if (decision.Held is { } held)
        {
            Dispatch(held);
            return 1;
        }

        if (decision.Slots == 0)
        {
            return 0;
        }

        await _fleetCircuits.RefreshAsync(cancellationToken);
        var heldBack = _gate.HeldBackTypes();
        if (heldBack.Count > 0)
        {
            GiveBackBuffered(_book.Buffer.TakeWhere(a => heldBack.Contains(a.Job.Type)), "the circuit for its type opened");
        }

        // Buffered jobs were leased earlier, so they come first in lease order.
        var lapsed = new List<LeasedAttempt>();
        var started = 0;
        foreach (var attempt in _book.Buffer.Take(decision.Slots, _time.GetUtcNow(), lapsed))
        {
            Dispatch(attempt);
            started++;
        }

        foreach (var attempt in lapsed)
        {
            // No renewal confirmed it for a whole lease: another worker may run it already. Never start it; the fenced
            // release is refused if the lease is gone, and otherwise hands it straight back.
            WorkerLog.BufferedLeaseLapsed(_logger, attempt.Job.Id, attempt.Job.Type);
            _recorder.GiveBack(attempt, _outcomes.GivenBack(attempt.Job, "no heartbeat renewed its lease while it waited in the lease-ahead buffer"));
        }

        var startable = decision.Slots - started;
        var ahead = _gate.AheadWanted(_book.Buffer.Count, _pace);
        if (startable + ahead == 0)
        {
            return started;
        }

        var leased = new List<LeasedAttempt>();
        var validUntil = _time.GetUtcNow() + _options.LeaseDuration;
        try
        {
            await LeaseAsync(startable, ahead, leased, cancellationToken);
            _storeReachable = true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // What was leased before the failure still runs: dropping it would let its lease expire and count a crash.
            _storeReachable = false;
            _metrics.PersistenceError("lease");
            WorkerLog.LeaseFailed(_logger, ex);
        }

        var admitted = _gate.Admit(leased);
        foreach (var suspect in admitted.GiveBack)
        {
            _recorder.GiveBack(suspect, _outcomes.GivenBack(suspect.Job, "it runs alone, and this worker already holds a job that must run alone"));
        }

        // A trial starts now whatever the slots: it was leased for a slot of its own.
        var now = admitted.Start.Where(a => a.IsTrial).Concat(admitted.Start.Where(a => !a.IsTrial).Take(Math.Max(0, startable - admitted.Start.Count(a => a.IsTrial)))).ToList();
        foreach (var attempt in now)
        {
            Dispatch(attempt);
        }

        if (admitted.Start.Count > now.Count)
        {
            _book.Buffer.Add(admitted.Start.Except(now), validUntil);
        }

        if (admitted.Start.Count > 0)
        {
            WorkerLog.Leased(_logger, admitted.Start.Count);
        }

        return started + now.Count;
    }

    /// <summary>One heartbeat: renews the registration and every held lease; cancels handlers whose lease was lost or whose job a user cancelled.</summary>
    internal async Task<HeartbeatResult?> HeartbeatOnceAsync(CancellationToken cancellationToken = default)
    {
        // Taken before the beat is sent, so the held suspect's validity is never overstated.
        var renewal = _book.Renewals(_time.GetUtcNow() + _options.LeaseDuration);
        var memory = _memory.Read();
        HeartbeatResult result;
        try
        {
            result = await _store.HeartbeatAsync(new WorkerHeartbeat(Registration(memory), renewal.Tokens, _options.LeaseDuration), cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            _storeReachable = false;
            _metrics.PersistenceError("heartbeat");
            WorkerLog.HeartbeatFailed(_logger, ex);
            return null;
        }

        _storeReachable = true;
        Interlocked.Increment(ref _heartbeats);
        _metrics.SetWorker(Name, _book.RunningCount, _options.Concurrency, memory);
        if (_book.Apply(result, renewal) is { } cancelled)
        {
            _recorder.GiveBack(cancelled, _outcomes.CancelledBeforeStart(cancelled.Job));
        }

        foreach (var buffered in _book.Buffer.Apply(result, renewal.Buffered, renewal.HeldValidUntil))
        {
            _recorder.GiveBack(buffered, _outcomes.CancelledBeforeStart(buffered.Job));
        }

        return result;
    }

    /// <summary>Stops leasing; heartbeats now report Draining.</summary>
    internal void BeginDrain() => _gate.BeginDrain();

    /// <summary>
    /// Graceful drain: waits for running jobs up to the shutdown timeout (or until <paramref name="hostStopping"/> fires),
    /// then cancels the rest and releases them (category Shutdown, attempt refunded), and writes every outcome.
    /// Returns how many jobs were released.
    /// </summary>
    internal async Task<int> DrainAsync(CancellationToken hostStopping)
    {
        BeginDrain();
        if (_book.TakeHeld() is { } held)
        {
            _recorder.GiveBack(held, _outcomes.GivenBack(held.Job, "its worker shut down while it waited to run alone"));
        }

        GiveBackBuffered(_book.Buffer.TakeAll(), "its worker is shutting down");

        WorkerLog.Draining(_logger, _options.ShutdownTimeout, _book.RunningCount);
        await WaitUntilAsync(() => _book.IsRunningEmpty, _options.ShutdownTimeout, hostStopping);
        var released = 0;
        if (!_book.IsRunningEmpty)
        {
            foreach (var run in _book.Running)
            {
                run.Cancel(CancelReason.Shutdown);
                released++;
            }

            await WaitUntilAsync(() => _book.Running.All(r => r.IsSettled), _options.AbandonGracePeriod, CancellationToken.None);
            foreach (var run in _book.Running)
            {
                if (_book.TryAbandon(run))
                {
                    // The handler ignored its token: give the job back anyway; the handler's late result is discarded.
                    _ = _recorder.RecordAsync(run, _outcomes.ReleasedAtShutdown(run), _time.GetElapsedTime(run.StartedTimestamp));
                }
            }

            WorkerLog.Released(_logger, released);
        }

        await WaitUntilAsync(() => _book.IsRunningEmpty, TimeSpan.FromSeconds(10), CancellationToken.None, realTime: true);
        await Completer.FlushAsync(_options.FinishBudget, _options.PollInterval);
        await WaitUntilAsync(() => _book.IsFinishingEmpty, TimeSpan.FromSeconds(10), CancellationToken.None, realTime: true);
        return released;
    }

    /// <summary>Deregisters (state Stopped). Failure is logged: maintenance declares the worker dead later.</summary>
    internal async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _store.DeregisterWorkerAsync(Id, cancellationToken);
            WorkerLog.Deregistered(_logger, Id);
        }
        catch (Exception ex)
        {
            WorkerLog.DeregisterFailed(_logger, ex, Id);
        }

        _metrics.RemoveWorker(Name);
    }

    /// <summary>Cancels every handler at once (hard shutdown).</summary>
    internal void HardStop() => _hardStop.Cancel();

    /// <summary>Waits for an in-process enqueue, a freed slot, or the poll interval.</summary>
    internal Task WaitForWorkAsync(JobSignal signal, CancellationToken cancellationToken) => WaitForWorkAsync(signal, WorkVersion(signal), cancellationToken);

    /// <summary>What the waiting compares: read it before a pass.</summary>
    internal (long Enqueued, long Freed) WorkVersion(JobSignal signal) => (signal.Version, _slotFreed.Version);

    /// <summary>As above, returning at once if an enqueue or a freed slot came after <paramref name="seen"/> (during the pass).</summary>
    internal Task WaitForWorkAsync(JobSignal signal, (long Enqueued, long Freed) seen, CancellationToken cancellationToken) =>
        Task.WhenAny(signal.WaitAsync(seen.Enqueued, _options.PollInterval, _time, cancellationToken), _slotFreed.WaitAsync(seen.Freed, _options.PollInterval, _time, cancellationToken));

    /// <inheritdoc />
    public void Dispose()
    {
        _hardStop.Cancel();
        _hardStop.Dispose();
        _activities.Dispose();
    }

    /// <summary>
    /// Leases up to <paramref name="startable"/> + <paramref name="ahead"/> jobs into <paramref name="leased"/>: a half-open
    /// circuit's trial first (only when one can start now), then the rest.
    /// </summary>
    private async Task LeaseAsync(int startable, int ahead, List<LeasedAttempt> leased, CancellationToken cancellationToken)
    {
        var queues = _gate.OrderQueues();
        var slots = startable + ahead;
        if (startable > 0 && _gate.TrialRequest(queues) is { } trial)
        {
            foreach (var job in await _store.LeaseAsync(trial, cancellationToken))
            {
                leased.Add(_gate.AdmitTrial(job));
            }

            slots -= leased.Count;
        }

        if (slots > 0)
        {
            foreach (var job in await _store.LeaseAsync(_gate.Request(queues, slots), cancellationToken))
            {
                leased.Add(new LeasedAttempt(job, IsTrial: false));
            }
        }
    }

    /// <summary>Ends buffered leases unstarted and uncharged, saying <paramref name="why"/>; other workers can take them at once.</summary>
    private void GiveBackBuffered(IReadOnlyList<LeasedAttempt> attempts, string why)
    {
        if (attempts.Count == 0)
        {
            return;
        }

        WorkerLog.BufferGivenBack(_logger, attempts.Count, why);
        foreach (var attempt in attempts)
        {
            _recorder.GiveBack(attempt, _outcomes.GivenBack(attempt.Job, $"it waited in the lease-ahead buffer and {why}"));
        }
    }

    private void Dispatch(LeasedAttempt attempt)
    {
        var (job, trial) = attempt;
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_hardStop.Token);
        var run = new RunningJob(job, cancellation, _time.GetTimestamp(), _time.GetUtcNow(), trial);
        _book.Start(run);
        _metrics.JobWaited(job.Queue, run.StartedAt - job.RunAt);
        // Task.Run: a handler that blocks or spins before its first await must not hold up the leasing loop.
        run.Execution = Task.Run(() => ExecuteAsync(run));
    }

    /// <summary>One job's pipeline: (leased) → resolve, read, perform (<see cref="JobExecutor"/>) → normalise → record.</summary>
    private async Task ExecuteAsync(RunningJob run)
    {
        var job = run.Job;
        ActivityContext.TryParse(job.TraceParent, null, out var parent);
        // OpenTelemetry messaging conventions ("process {destination}", messaging.*), plus Bulwark's own attributes.
        using var activity = _activities.StartActivity($"process {job.Queue}", ActivityKind.Consumer, parent);
        Telemetry.TagMessaging(activity, "process", job.Queue, job.Id);
        activity?.SetTag("bulwark.job.id", job.Id);
        activity?.SetTag("bulwark.job.type", job.Type);
        activity?.SetTag("bulwark.queue", job.Queue);
        activity?.SetTag("bulwark.job.attempt", job.Attempt);

        string? result = null;
        Exception? failure = null;
        try
        {
            result = await _executor.PerformAsync(run);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        if (!run.TrySettle())
        {
            // Abandoned (or released by the drain) while it ran: its outcome was already recorded.
            _book.AbandonedEnded(run);
            _slotFreed.Notify(job.Queue);
            return;
        }

        var duration = _time.GetElapsedTime(run.StartedTimestamp);
        _pace.Record(duration);
        var outcome = failure is null ? AttemptOutcomes.Completed(run, result) : _outcomes.Failed(run, failure);
        if (failure is not null)
        {
            activity?.SetStatus(ActivityStatusCode.Error, outcome.Error?.Message);
        }

        activity?.SetTag("bulwark.job.outcome", outcome.Kind.ToString());
        await _recorder.RecordAsync(run, outcome, duration, failure);
    }

    private WorkerRegistration Registration(long memory) => new()
    {
        Id = Id,
        Name = Name,
        Host = Environment.MachineName,
        ProcessId = Environment.ProcessId,
        Queues = _queues,
        Concurrency = _options.Concurrency,
        StartedAt = _startedAt,
        State = _gate.IsDraining ? WorkerState.Draining : WorkerState.Active,
        ActiveJobs = _book.RunningCount,
        MemoryBytes = memory,
    };

    /// <summary>Waits until <paramref name="done"/> holds or <paramref name="timeout"/> passes (on the worker's clock, or the real one).</summary>
    private async Task WaitUntilAsync(Func<bool> done, TimeSpan timeout, CancellationToken cancellationToken, bool realTime = false)
    {
        var clock = realTime ? TimeProvider.System : _time;
        var start = clock.GetTimestamp();

        // The writes below end with the wait: a store that never answers must not hold the drain past its timeout.
        using var writes = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        writes.CancelAfter(timeout);
        while (!done() && clock.GetElapsedTime(start) < timeout && !cancellationToken.IsCancellationRequested)
        {
            // Outcomes are written here too, so a drain never waits on a completer loop that is not running.
            try
            {
                await Completer.RunOnceAsync(writes.Token);
            }
            catch (OperationCanceledException) when (writes.IsCancellationRequested)
            {
                return;
            }

            if (done())
            {
                return;
            }

            // Re-check on a short real-time slice: the worker's clock may be a test's fake one.
            await _slotFreed.WaitAsync(RecheckSlice, TimeProvider.System, cancellationToken);
        }
    }
}
