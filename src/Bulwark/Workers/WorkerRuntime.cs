using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// One worker: its slots, leases, heartbeat state and circuit breakers. The hosted service loops over its passes;
/// health probes read its state (<see cref="IsReady"/>: store reachable, not draining, not jammed by abandoned handlers).
/// Each job runs as a pipeline: lease → resolve handler → read payload → perform → normalise outcome → record.
/// </summary>
public sealed class WorkerRuntime : IDisposable
{
    private static readonly TimeSpan RecheckSlice = TimeSpan.FromMilliseconds(50);

    // A full compacting collection is costly (it blocks every thread): at most one per interval while over the limit.
    private static readonly TimeSpan MemoryCollectInterval = TimeSpan.FromSeconds(10);

    private readonly IJobStore _store;
    private readonly Action _collectMemory;
    private readonly WorkerOptions _options;
    private readonly IReadOnlyList<string> _queues;
    private readonly TimeProvider _time;
    private readonly BulwarkMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Func<long> _workingSet;
    private readonly OutcomePolicy _policy;
    private readonly JobExecutor _executor;
    private readonly Func<double> _random;
    private readonly CircuitBreakers _circuits;
    private readonly ActivitySource _activities = new(Telemetry.ActivitySourceName);
    private readonly ConcurrentDictionary<LeaseToken, RunningJob> _running = new();

    // Jobs whose handler has ended and whose outcome awaits its commit: no longer in a slot, but their leases are still
    // held and renewed, so a slow or failing write cannot let another worker run them again.
    private readonly ConcurrentDictionary<LeaseToken, RunningJob> _finishing = new();
    private readonly ConcurrentDictionary<LeaseToken, RunningJob> _abandoned = new();
    private readonly CancellationTokenSource _hardStop = new();
    private readonly JobSignal _slotFreed = new();
    private volatile bool _draining;
    private volatile bool _memoryPaused;
    private volatile bool _storeReachable = true;
    private volatile bool _registered;
    private volatile bool _jammed;

    // The suspect running alone now, and one leased while others ran: held (its lease renewed) until they finish.
    private LeaseToken? _suspect;
    private HeldSuspect? _held;
    private long? _lastCollectTimestamp;
    private long _heartbeats;

    // The working set as last read; reading it means parsing /proc/self/status, too dear for every leasing pass.
    private long _lastMemory;
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
        _collectMemory = collectMemory ?? (() => GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true));
        _options = options;
        _queues = options.EffectiveQueues;
        _time = time;
        _metrics = metrics;
        _logger = loggers.CreateLogger("Bulwark.Worker");
        _workingSet = workingSet ?? (() => Environment.WorkingSet);
        _random = random ?? Random.Shared.NextDouble;
        _policy = new OutcomePolicy(options.RetrySystemErrors, _random);
        _circuits = new CircuitBreakers(options.CircuitBreakerThreshold, options.CircuitBreakerResetTime, time, metrics);
        Completer = new OutcomeCompleter(store, options.CompleterBatchSize, metrics, _logger);
        Name = options.Name;
        Id = $"{options.Name}-{Guid.NewGuid():N}"[..(options.Name.Length + 9)];
        _executor = new JobExecutor(Id, Name, handlers, scopes, store, json, loggers);
    }

    /// <summary>Unique per process start: the lease owner.</summary>
    public string Id { get; }

    /// <summary>The stable name chosen by the operator.</summary>
    public string Name { get; }

    /// <summary>True once shutdown began: no more leasing.</summary>
    public bool IsDraining => _draining;

    /// <summary>True when the last store call succeeded.</summary>
    public bool IsStoreReachable => _storeReachable;

    /// <summary>True while working set is above the soft limit (leasing paused).</summary>
    public bool IsOverMemoryLimit => _memoryPaused;

    /// <summary>Ready to take work: registered, store reachable, not draining, not jammed by abandoned handlers.</summary>
    public bool IsReady => _registered && _storeReachable && !_draining && !_jammed;

    /// <summary>Jobs holding a slot now (handlers running).</summary>
    public int ActiveJobs => _running.Count;

    /// <summary>Jobs whose handler ended and whose outcome is not yet durable; their leases stay held and renewed.</summary>
    public int FinishingJobs => _finishing.Count;

    /// <summary>Handlers abandoned after ignoring their token, still running.</summary>
    public int AbandonedJobs => _abandoned.Count;

    /// <summary>Heartbeats that reached the store.</summary>
    public long Heartbeats => Interlocked.Read(ref _heartbeats);

    /// <summary>The per-type circuit breakers.</summary>
    public ICircuitBreakers Circuits => _circuits;

    internal OutcomeCompleter Completer { get; }

    internal WorkerOptions Options => _options;

    /// <summary>
    /// A slot frees when its handler returns, not when the outcome commits, so leasing never waits on finishing. Outcomes
    /// awaiting their write are bounded to one more slot's worth each: a store that cannot keep up stops the leasing.
    /// </summary>
    internal int FreeSlots => Math.Max(0, Math.Min(_options.Concurrency - _running.Count, (2 * _options.Concurrency) - _running.Count - _finishing.Count));

    /// <summary>Registers with the store (recovering a predecessor of the same name) and logs what was reclaimed.</summary>
    internal async Task<ReclaimResult> RegisterAsync(CancellationToken cancellationToken)
    {
        _startedAt = _time.GetUtcNow();
        var reclaimed = await _store.RegisterWorkerAsync(Registration(ReadMemory()), cancellationToken);
        _registered = true;
        _metrics.RecoveryReclaimed(reclaimed.Total);
        WorkerLog.Registered(_logger, Id, Name, string.Join(',', _queues), _options.Concurrency);
        WorkerLog.RecoveryCompleted(_logger, reclaimed.Total);
        return reclaimed;
    }

    /// <summary>
    /// One leasing pass: supervise running jobs (timeouts, abandonment), check memory and the abandoned bound, then lease
    /// up to the free slots and start them. Returns how many jobs were leased.
    /// </summary>
    internal async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        Supervise();
        // Without a memory limit the pass only reports memory; the heartbeat's reading (every 2 s) is fresh enough.
        var memory = _options.MemoryLimitBytes is null ? Interlocked.Read(ref _lastMemory) : ReadMemory();
        _metrics.SetWorker(Name, _running.Count, _options.Concurrency, memory);
        if (_draining || _hardStop.IsCancellationRequested || !MemoryAllowsLeasing(ref memory) || Jammed())
        {
            return 0;
        }

        if (_suspect is { } suspect)
        {
            if (_running.ContainsKey(suspect))
            {
                // A suspect runs alone: if it takes the process down, it takes nothing else with it.
                return 0;
            }

            _suspect = null;
        }

        if (_held is { } held)
        {
            // Leasing stops on this worker only: the held suspect's lease keeps others from taking it, while every other
            // worker goes on leasing as usual. Once nothing else is in flight (outcomes written too: a crash must not cost a
            // finished neighbour its result), the suspect starts alone.
            if (!NothingInFlight || Interlocked.CompareExchange(ref _held, null, held) != held)
            {
                return 0;
            }

            RunAlone(held.Job, held.Trial);
            return 1;
        }

        var free = FreeSlots;
        if (free <= 0)
        {
            return 0;
        }

        var leased = new List<(LeasedJob Job, bool Trial)>();
        var queues = OrderQueues();
        try
        {
            var awaiting = _circuits.AwaitingTrial();
            if (awaiting.Count > 0)
            {
                // One job at a time while a half-open type waits for its trial, so at most one of its jobs runs.
                var excludedForTrial = _circuits.Excluded().Except(awaiting, StringComparer.Ordinal).ToArray();
                foreach (var job in await _store.LeaseAsync(new LeaseRequest(Id, queues, 1, _options.LeaseDuration) { ExcludedTypes = excludedForTrial }, cancellationToken))
                {
                    leased.Add((job, _circuits.TryStartTrial(job.Type)));
                }

                free -= leased.Count;
            }

            if (free > 0)
            {
                var request = new LeaseRequest(Id, queues, free, _options.LeaseDuration) { ExcludedTypes = _circuits.Excluded() };
                foreach (var job in await _store.LeaseAsync(request, cancellationToken))
                {
                    leased.Add((job, false));
                }
            }

            _storeReachable = true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            _storeReachable = false;
            _metrics.PersistenceError("lease");
            WorkerLog.LeaseFailed(_logger, ex);
        }

        leased = IsolateSuspects(leased);
        foreach (var (job, trial) in leased)
        {
            Dispatch(job, trial);
        }

        if (leased.Count > 0)
        {
            WorkerLog.Leased(_logger, leased.Count);
        }

        return leased.Count;
    }

    /// <summary>One heartbeat: renews the registration and every held lease; cancels handlers whose lease was lost or whose job a user cancelled.</summary>
    internal async Task<HeartbeatResult?> HeartbeatOnceAsync(CancellationToken cancellationToken = default)
    {
        var waiting = _held;
        var held = _running.Where(kv => kv.Value.Reason != CancelReason.LeaseLost).Select(kv => kv.Key).Union(_finishing.Keys)
            .Concat(waiting is null ? [] : [waiting.Job.Token]).ToArray();
        var memory = ReadMemory();
        HeartbeatResult result;
        try
        {
            result = await _store.HeartbeatAsync(new WorkerHeartbeat(Registration(memory), held, _options.LeaseDuration), cancellationToken);
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
        _metrics.SetWorker(Name, _running.Count, _options.Concurrency, memory);
        foreach (var token in result.Lost)
        {
            // A handler that already ended is writing its outcome: the store answered for a lease that outcome just
            // closed (the beat raced the completion), so nothing was lost.
            if (_running.TryGetValue(token, out var run) && !run.IsSettled)
            {
                _metrics.LeaseLost();
                WorkerLog.LeaseLost(_logger, token);
                run.Cancel(CancelReason.LeaseLost);
            }
        }

        if (waiting is not null && (result.Lost.Contains(waiting.Job.Token) || result.CancelRequested.Contains(waiting.Job.Token))
            && Interlocked.CompareExchange(ref _held, null, waiting) == waiting)
        {
            // Never started: a lost lease needs nothing more; a cancel ends it as cancelled, through the completer.
            if (result.CancelRequested.Contains(waiting.Job.Token))
            {
                GiveBack(waiting.Job, waiting.Trial, JobOutcome.Cancelled(waiting.Job.Token, new JobError(
                    waiting.Job.Attempt, Id, null, _time.GetUtcNow(), FailureCategory.Cancelled, "Cancelled on request before it started.")));
            }
        }

        foreach (var token in result.CancelRequested)
        {
            if (_running.TryGetValue(token, out var run) && run.Reason == CancelReason.None)
            {
                WorkerLog.CancelRequested(_logger, token.JobId);
                run.Cancel(CancelReason.CancelRequested);
            }
        }

        return result;
    }

    /// <summary>Stops leasing; heartbeats now report Draining.</summary>
    internal void BeginDrain() => _draining = true;

    /// <summary>
    /// Graceful drain: waits for running jobs up to the shutdown timeout (or until <paramref name="hostStopping"/> fires),
    /// then cancels the rest and releases them (category Shutdown, attempt refunded), and writes every outcome.
    /// Returns how many jobs were released.
    /// </summary>
    internal async Task<int> DrainAsync(CancellationToken hostStopping)
    {
        BeginDrain();
        if (Interlocked.Exchange(ref _held, null) is { } held)
        {
            GiveBack(held.Job, held.Trial, ReleaseUnstarted(held.Job, "Given back unstarted: its worker shut down while it waited to run alone."));
        }

        WorkerLog.Draining(_logger, _options.ShutdownTimeout, _running.Count);
        await WaitUntilAsync(() => _running.IsEmpty, _options.ShutdownTimeout, hostStopping);
        var released = 0;
        if (!_running.IsEmpty)
        {
            foreach (var run in _running.Values)
            {
                run.Cancel(CancelReason.Shutdown);
                released++;
            }

            await WaitUntilAsync(() => _running.Values.All(r => r.IsSettled), _options.AbandonGracePeriod, CancellationToken.None);
            foreach (var run in _running.Values)
            {
                // Marked abandoned before settling, so a handler finishing at this instant never leaves a stale entry.
                _abandoned[run.Job.Token] = run;
                if (!run.TrySettle())
                {
                    _abandoned.TryRemove(run.Job.Token, out _);
                }
                else
                {
                    // The handler ignored its token: give the job back anyway; the handler's late result is discarded.
                    _ = RecordAsync(run, JobOutcome.Release(run.Job.Token, ErrorFor(run, FailureCategory.Shutdown, "Worker shut down before the job finished; released without charging the attempt.", null)), _time.GetElapsedTime(run.StartedTimestamp));
                }
            }

            WorkerLog.Released(_logger, released);
        }

        await WaitUntilAsync(() => _running.IsEmpty, TimeSpan.FromSeconds(10), CancellationToken.None, realTime: true);
        await Completer.FlushAsync(3, CancellationToken.None);
        await WaitUntilAsync(() => _finishing.IsEmpty, TimeSpan.FromSeconds(10), CancellationToken.None, realTime: true);
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
    internal Task WaitForWorkAsync(JobSignal signal, CancellationToken cancellationToken) =>
        Task.WhenAny(signal.WaitAsync(_options.PollInterval, _time, cancellationToken), _slotFreed.WaitAsync(_options.PollInterval, _time, cancellationToken));

    /// <inheritdoc />
    public void Dispose()
    {
        _hardStop.Cancel();
        _hardStop.Dispose();
        _activities.Dispose();
    }

    private void Dispatch(LeasedJob job, bool trial)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_hardStop.Token);
        var run = new RunningJob(job, cancellation, _time.GetTimestamp(), _time.GetUtcNow(), trial);
        _running[job.Token] = run;
        _metrics.JobWaited(job.Queue, run.StartedAt - job.RunAt);
        // Task.Run: a handler that blocks or spins before its first await must not hold up the leasing loop.
        run.Execution = Task.Run(() => ExecuteAsync(run));
    }

    /// <summary>One job's pipeline: (leased) → resolve, read, perform (<see cref="JobExecutor"/>) → normalise → record.</summary>
    private async Task ExecuteAsync(RunningJob run)
    {
        var job = run.Job;
        ActivityContext.TryParse(job.TraceParent, null, out var parent);
        using var activity = _activities.StartActivity($"{job.Type} process", ActivityKind.Consumer, parent);
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
            _abandoned.TryRemove(job.Token, out _);
            _slotFreed.Notify(job.Queue);
            run.Dispose();
            return;
        }

        var duration = _time.GetElapsedTime(run.StartedTimestamp);
        JobOutcome outcome;
        if (failure is null)
        {
            outcome = JobOutcome.Complete(job.Token, result);
        }
        else
        {
            var category = CategoryFor(run.Reason) ?? FailureClassifier.Classify(failure);
            var message = run.Reason switch
            {
                CancelReason.Timeout => $"Execution timeout of {DurationText.Format(job.Timeout)} passed: {failure.Message}",
                CancelReason.Shutdown => $"Worker shut down while the job ran; released without charging the attempt: {failure.Message}",
                CancelReason.CancelRequested => "Cancelled on request while running.",
                CancelReason.LeaseLost => $"Lease lost while running: {failure.Message}",
                _ => failure.Message,
            };
            outcome = _policy.Decide(job, ErrorFor(run, category, message, failure));
            activity?.SetStatus(ActivityStatusCode.Error, message);
        }

        activity?.SetTag("bulwark.job.outcome", outcome.Kind.ToString());
        await RecordAsync(run, outcome, duration, failure);
    }

    private async Task RecordAsync(RunningJob run, JobOutcome outcome, TimeSpan duration, Exception? failure = null)
    {
        var job = run.Job;
        // The slot is free once the outcome is queued; the lease moves to the finishing set, still renewed by heartbeats,
        // and is given up only once the outcome is written.
        _finishing[job.Token] = run;
        _running.TryRemove(job.Token, out _);
        var submitted = Completer.SubmitAsync(outcome);
        _slotFreed.Notify(job.Queue);
        try
        {
            var fence = await submitted;
            Observe(job, outcome, fence, duration, failure);
        }
        finally
        {
            _finishing.TryRemove(job.Token, out _);
            if (!_abandoned.ContainsKey(job.Token))
            {
                run.Dispose();
            }

            _slotFreed.Notify(job.Queue);
        }
    }

    private void Observe(LeasedJob job, JobOutcome outcome, FenceResult fence, TimeSpan duration, Exception? failure)
    {
        if (fence != FenceResult.Ok)
        {
            _metrics.DuplicateExecution();
            WorkerLog.OutcomeRefused(_logger, job.Id, outcome.Kind, fence);
            _circuits.RecordNeutral(job.Type);
            return;
        }

        switch (outcome.Kind)
        {
            case OutcomeKind.Complete:
                _metrics.JobCompleted(job.Queue, job.Type, duration);
                _circuits.RecordSuccess(job.Type);
                WorkerLog.Completed(_logger, job.Id, job.Type, duration);
                return;
            case OutcomeKind.Release:
            case OutcomeKind.Cancelled:
                _circuits.RecordNeutral(job.Type);
                return;
        }

        var error = outcome.Error!;
        _metrics.JobFailed(job.Queue, job.Type, error.Category, duration);
        if (outcome.Kind == OutcomeKind.Retry)
        {
            _metrics.JobRetried(job.Queue, job.Type);
        }
        else if (outcome.Kind == OutcomeKind.DeadLetter)
        {
            _metrics.JobsDeadLettered(job.Queue, 1, "attempts_exhausted");
        }

        WorkerLog.AttemptFailed(_logger, failure, job.Id, job.Type, job.Attempt, error.Category, outcome.Kind, error.Message);
        if (error.Category is FailureCategory.Temporary or FailureCategory.System or FailureCategory.Timeout)
        {
            if (_circuits.RecordFailure(job.Type))
            {
                WorkerLog.CircuitOpened(_logger, job.Type, _options.CircuitBreakerThreshold);
            }
        }
        else
        {
            _circuits.RecordNeutral(job.Type);
        }
    }

    /// <summary>Cancels jobs past their execution timeout and abandons handlers that ignore a cancelled token past the grace period.</summary>
    private void Supervise()
    {
        foreach (var run in _running.Values)
        {
            if (run.IsSettled)
            {
                continue;
            }

            var elapsed = _time.GetElapsedTime(run.StartedTimestamp);
            if (run.Reason == CancelReason.None && elapsed >= run.Job.Timeout)
            {
                run.Cancel(CancelReason.Timeout);
                run.CancelledTimestamp = _time.GetTimestamp();
            }

            if (run.Reason is not (CancelReason.None or CancelReason.Shutdown) && !run.Execution.IsCompleted)
            {
                run.CancelledTimestamp ??= _time.GetTimestamp();
                if (_time.GetElapsedTime(run.CancelledTimestamp.Value) < _options.AbandonGracePeriod)
                {
                    continue;
                }

                _abandoned[run.Job.Token] = run;
                if (!run.TrySettle())
                {
                    _abandoned.TryRemove(run.Job.Token, out _);
                }
                else
                {
                    WorkerLog.Abandoned(_logger, run.Job.Id, run.Job.Type, _options.AbandonGracePeriod);
                    var category = CategoryFor(run.Reason) ?? FailureCategory.Timeout;
                    var error = ErrorFor(run, category, $"The handler ignored its cancelled token ({run.Reason}) for {DurationText.Format(_options.AbandonGracePeriod)} and was abandoned.", null);
                    _ = RecordAsync(run, _policy.Decide(run.Job, error), elapsed);
                }
            }
        }
    }

    /// <summary>The queue preference for one pass: the configured order, or a weighted random order (Efraimidis–Spirakis keys).</summary>
    private IReadOnlyList<string> OrderQueues()
    {
        if (_options.QueueWeights.Count == 0)
        {
            return _queues;
        }

        return _queues
            .Select(q => (Queue: q, Key: Math.Pow(Math.Max(_random(), double.Epsilon), 1.0 / (_options.QueueWeights.TryGetValue(q, out var w) ? w : 1))))
            .OrderByDescending(x => x.Key)
            .Select(x => x.Queue)
            .ToArray();
    }

    /// <summary>
    /// Suspects (<see cref="SuspectRule.IsSuspect(LeasedJob)"/>) run alone: if one takes the process down, it takes nothing else with
    /// it. Leased alone on an idle worker, it starts now. Leased with others or while others run, the first is held (its
    /// lease kept and renewed) until this worker's other jobs end, and then runs alone; further suspects of the batch
    /// are given back unstarted and uncharged for other workers to take. Returns the jobs to start now.
    /// </summary>
    private List<(LeasedJob Job, bool Trial)> IsolateSuspects(List<(LeasedJob Job, bool Trial)> leased)
    {
        var suspects = leased.Where(e => SuspectRule.IsSuspect(e.Job)).ToList();
        if (suspects.Count == 0)
        {
            return leased;
        }

        if (leased.Count == 1 && NothingInFlight)
        {
            _suspect = leased[0].Job.Token;
            LogRunsAlone(leased[0].Job);
            return leased;
        }

        var (first, trial) = suspects[0];
        _held = new HeldSuspect(first, trial);
        foreach (var (job, isTrial) in suspects.Skip(1))
        {
            GiveBack(job, isTrial, ReleaseUnstarted(job, "Given back unstarted: it runs alone, and this worker already holds a job that must run alone."));
        }

        var others = leased.Except(suspects).ToList();
        WorkerLog.SuspectHeld(_logger, first.Id, first.Type, _running.Count + others.Count, suspects.Count - 1);
        return others;
    }

    private bool NothingInFlight => _running.IsEmpty && _finishing.IsEmpty;

    private void RunAlone(LeasedJob job, bool trial)
    {
        _suspect = job.Token;
        LogRunsAlone(job);
        Dispatch(job, trial);
    }

    private void LogRunsAlone(LeasedJob job) =>
        WorkerLog.SuspectRunsAlone(_logger, job.Id, job.Type, job.Attempt, SuspectRule.Why(job.LostLeases, job.Attempt, job.MaxAttempts));

    private JobOutcome ReleaseUnstarted(LeasedJob job, string message) =>
        JobOutcome.Release(job.Token, new JobError(job.Attempt, Id, null, _time.GetUtcNow(), FailureCategory.Shutdown, message));

    /// <summary>Ends a lease that never started through the completer; the lease is renewed until the outcome is written.</summary>
    private void GiveBack(LeasedJob job, bool trial, JobOutcome outcome)
    {
        var entry = new RunningJob(job, new CancellationTokenSource(), _time.GetTimestamp(), _time.GetUtcNow(), trial);
        _finishing[job.Token] = entry;
        _ = Completer.SubmitAsync(outcome).ContinueWith(
            written =>
            {
                _finishing.TryRemove(job.Token, out _);
                entry.Dispose();
                if (trial)
                {
                    _circuits.RecordNeutral(job.Type);
                }

                _slotFreed.Notify(job.Queue);
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Judges the memory reading against the soft limit. Over it, a full compacting collection (at most one per
    /// <see cref="MemoryCollectInterval"/>) runs before judging again: memory a finished job left to the collector
    /// must not keep the worker paused for good.
    /// </summary>
    private bool MemoryAllowsLeasing(ref long memory)
    {
        if (_options.MemoryLimitBytes is not { } limit)
        {
            return true;
        }

        if (memory > limit && (_lastCollectTimestamp is not { } last || _time.GetElapsedTime(last) >= MemoryCollectInterval))
        {
            _lastCollectTimestamp = _time.GetTimestamp();
            _collectMemory();
            memory = ReadMemory();
            WorkerLog.MemoryCollected(_logger, memory, limit);
        }

        if (memory > limit)
        {
            if (!_memoryPaused)
            {
                _memoryPaused = true;
                WorkerLog.MemoryOverLimit(_logger, memory, limit);
            }

            return false;
        }

        if (_memoryPaused)
        {
            _memoryPaused = false;
            WorkerLog.MemoryBackUnder(_logger, memory);
        }

        return true;
    }

    private long ReadMemory()
    {
        var memory = _workingSet();
        Interlocked.Exchange(ref _lastMemory, memory);
        return memory;
    }

    private bool Jammed()
    {
        var jammed = _abandoned.Count >= _options.MaxAbandonedHandlers;
        if (jammed && !_jammed)
        {
            WorkerLog.TooManyAbandoned(_logger, _abandoned.Count, _options.MaxAbandonedHandlers);
        }

        _jammed = jammed;
        return jammed;
    }

    private JobError ErrorFor(RunningJob run, FailureCategory category, string message, Exception? exception) =>
        new(run.Job.Attempt, Id, run.StartedAt, _time.GetUtcNow(), category, message, exception?.ToString(), exception?.GetType().FullName);

    private static FailureCategory? CategoryFor(CancelReason reason) => reason switch
    {
        CancelReason.Timeout => FailureCategory.Timeout,
        CancelReason.Shutdown => FailureCategory.Shutdown,
        CancelReason.CancelRequested => FailureCategory.Cancelled,
        CancelReason.LeaseLost => FailureCategory.Crash,
        _ => null,
    };

    private sealed record HeldSuspect(LeasedJob Job, bool Trial);

    private WorkerRegistration Registration(long memory) => new()
    {
        Id = Id,
        Name = Name,
        Host = Environment.MachineName,
        ProcessId = Environment.ProcessId,
        Queues = _queues,
        Concurrency = _options.Concurrency,
        StartedAt = _startedAt,
        State = _draining ? WorkerState.Draining : WorkerState.Active,
        ActiveJobs = _running.Count,
        MemoryBytes = memory,
    };

    /// <summary>Waits until <paramref name="done"/> holds or <paramref name="timeout"/> passes (on the worker's clock, or the real one).</summary>
    private async Task WaitUntilAsync(Func<bool> done, TimeSpan timeout, CancellationToken cancellationToken, bool realTime = false)
    {
        var clock = realTime ? TimeProvider.System : _time;
        var start = clock.GetTimestamp();
        while (!done() && clock.GetElapsedTime(start) < timeout && !cancellationToken.IsCancellationRequested)
        {
            // Outcomes are written here too, so a drain never waits on a completer loop that is not running.
            await Completer.RunOnceAsync(CancellationToken.None);
            if (done())
            {
                return;
            }

            // Re-check on a short real-time slice: the worker's clock may be a test's fake one.
            await _slotFreed.WaitAsync(RecheckSlice, TimeProvider.System, cancellationToken);
        }
    }
}
