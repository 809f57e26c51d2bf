using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// Decides what this worker may lease on a pass: nothing while draining, over the memory limit, jammed by abandoned
/// handlers or while a suspect runs alone; the held suspect once nothing else is in flight; otherwise up to the free
/// slots, leaving out types whose circuit is open on this worker or opened by hand for the fleet (a half-open type gets
/// exactly one trial job, unless the fleet's breaker holds it). Then it admits the
/// leased batch: suspects (<see cref="SuspectRule"/>) run alone, so at most one is held and the rest are given back.
/// </summary>
internal sealed class LeasingGate(WorkerOptions options, string workerId, LeaseBook book, MemoryGuard memory, CircuitBreakers circuits, Func<double> random, ILogger logger, FleetCircuits? fleet = null, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly IReadOnlyList<string> _queues = options.EffectiveQueues;
    private volatile bool _draining;
    private volatile bool _jammed;

    public bool IsDraining => _draining;

    /// <summary>True when abandoned handlers reached <see cref="WorkerOptions.MaxAbandonedHandlers"/> at the last pass.</summary>
    public bool IsJammed => _jammed;

    /// <summary>
    /// A slot frees when its handler returns, not when the outcome commits, so leasing never waits on finishing. Outcomes
    /// awaiting their write are bounded to one more slot's worth each: a store that cannot keep up stops the leasing.
    /// </summary>
    public int FreeSlots => Math.Max(0, Math.Min(options.Concurrency - book.RunningCount, (2 * options.Concurrency) - book.RunningCount - book.FinishingCount));

    public void BeginDrain() => _draining = true;

    /// <summary>What this pass may take, with the working set as the pass read it.</summary>
    public LeaseDecision Decide(long memoryBytes)
    {
        if (_draining)
        {
            return LeaseDecision.Blocked("its worker is shutting down");
        }

        if (!memory.AllowsLeasing(ref memoryBytes))
        {
            return LeaseDecision.Blocked("its worker is over its memory limit");
        }

        if (Jammed())
        {
            return LeaseDecision.Blocked("its worker has too many abandoned handlers");
        }

        if (book.SuspectRunsAlone())
        {
            // A suspect runs alone: if it takes the process down, it takes nothing else with it.
            return LeaseDecision.Blocked("a job that must run alone runs on its worker");
        }

        if (book.Held is { } held)
        {
            // Leasing stops on this worker only: the held suspect's lease keeps others from taking it, while every other
            // worker goes on leasing as usual. Once nothing else is in flight (outcomes written too: a crash must not cost a
            // finished neighbour its result), the suspect starts alone.
            if (book.HeldLeaseMayHaveLapsed(_time.GetUtcNow()) && book.TryTakeHeld(held))
            {
                // No renewal confirmed it for a whole lease: reclaim may have given it to another worker already. Never
                // start a job whose lease may be lost; the store's reclaim takes it back if it is still ours.
                WorkerLog.HeldLeaseLapsed(logger, held.Job.Id, held.Job.Type);
                return LeaseDecision.Blocked("a job that must run alone waits on its worker");
            }

            if (!book.NothingInFlight || !book.TryTakeHeld(held))
            {
                return LeaseDecision.Blocked("a job that must run alone waits on its worker");
            }

            RunsAlone(held.Job);
            return LeaseDecision.Start(held);
        }

        return FreeSlots is > 0 and var free ? LeaseDecision.Lease(free) : LeaseDecision.Wait;
    }

    /// <summary>The queue preference for one pass: the configured order, or a weighted random order (Efraimidis–Spirakis keys).</summary>
    public IReadOnlyList<string> OrderQueues()
    {
        if (options.QueueWeights.Count == 0)
        {
            return _queues;
        }

        return _queues
            .Select(q => (Queue: q, Key: Math.Pow(Math.Max(random(), double.Epsilon), 1.0 / (options.QueueWeights.TryGetValue(q, out var w) ? w : 1))))
            .OrderByDescending(x => x.Key)
            .Select(x => x.Queue)
            .ToArray();
    }

    /// <summary>While a half-open type waits for its trial, one job at a time is leased first, so at most one of its jobs runs.</summary>
    public LeaseRequest? TrialRequest(IReadOnlyList<string> queues)
    {
        var byHand = fleet?.OpenByHand ?? [];
        var awaiting = circuits.AwaitingTrial().Except(byHand, StringComparer.Ordinal).ToArray();
        return awaiting.Length == 0 ? null : new LeaseRequest(workerId, queues, 1, options.LeaseDuration)
        {
            ExcludedTypes = circuits.Excluded().Union(byHand, StringComparer.Ordinal).Except(awaiting, StringComparer.Ordinal).ToArray(),
        };
    }

    /// <summary>A job leased by <see cref="TrialRequest"/>: the trial of its type's circuit, if that trial is still free.</summary>
    public LeasedAttempt AdmitTrial(LeasedJob job) => new(job, circuits.TryStartTrial(job.Type));

    /// <summary>
    /// How many jobs to lease ahead on top of the free slots. The buffer's size is <see cref="WorkerOptions.LeaseAhead"/>,
    /// or less: what the slots finish within <see cref="JobPace.Horizon"/> at the recent pace, so long jobs are not held
    /// here while another worker could run them. None while the buffer is above half that size, else enough to fill it,
    /// so refills come in batches of at least half the buffer rather than a job at a time.
    /// </summary>
    public int AheadWanted(int buffered, JobPace pace)
    {
        var size = Math.Min(options.LeaseAhead, pace.JobsWithinHorizon(options.Concurrency));
        return size > 0 && buffered <= size / 2 ? size - buffered : 0;
    }

    /// <summary>
    /// Types whose buffered jobs must not start now: circuits open here or by hand for the fleet, and half-open ones
    /// (their one trial is leased on its own).
    /// </summary>
    public IReadOnlySet<string> HeldBackTypes()
    {
        var types = new HashSet<string>(circuits.Excluded(), StringComparer.Ordinal);
        types.UnionWith(circuits.AwaitingTrial());
        if (fleet is not null)
        {
            types.UnionWith(fleet.OpenByHand);
        }

        return types;
    }

    public LeaseRequest Request(IReadOnlyList<string> queues, int count) =>
        new(workerId, queues, count, options.LeaseDuration) { ExcludedTypes = fleet is null ? circuits.Excluded() : circuits.Excluded().Union(fleet.OpenByHand, StringComparer.Ordinal).ToArray() };

    /// <summary>
    /// Suspects run alone: if one takes the process down, it takes nothing else with it. Leased alone on an idle worker,
    /// it starts now. Leased with others or while others run, the first is held (its lease kept and renewed) until this
    /// worker's other jobs end; further suspects of the batch are to be given back unstarted and uncharged.
    /// </summary>
    public Admission Admit(IReadOnlyList<LeasedAttempt> leased)
    {
        var suspects = leased.Where(e => SuspectRule.IsSuspect(e.Job)).ToList();
        if (suspects.Count == 0)
        {
            return new Admission(leased, []);
        }

        if (leased.Count == 1 && book.NothingInFlight)
        {
            RunsAlone(leased[0].Job);
            return new Admission(leased, []);
        }

        var first = suspects[0];
        book.Hold(first, _time.GetUtcNow() + options.LeaseDuration);
        var others = leased.Where(e => !SuspectRule.IsSuspect(e.Job)).ToList();
        WorkerLog.SuspectHeld(logger, first.Job.Id, first.Job.Type, book.RunningCount + others.Count, suspects.Count - 1);
        return new Admission(others, suspects[1..]);
    }

    private void RunsAlone(LeasedJob job)
    {
        book.RunsAlone(job.Token);
        WorkerLog.SuspectRunsAlone(logger, job.Id, job.Type, job.Attempt, SuspectRule.Why(job.LostLeases, job.Attempt, job.MaxAttempts));
    }

    private bool Jammed()
    {
        var jammed = book.AbandonedCount >= options.MaxAbandonedHandlers;
        if (jammed && !_jammed)
        {
            WorkerLog.TooManyAbandoned(logger, book.AbandonedCount, options.MaxAbandonedHandlers);
        }

        _jammed = jammed;
        return jammed;
    }
}

/// <summary>
/// What a leasing pass may do: wait (no free slot), start the held suspect alone, or lease up to <see cref="Slots"/>
/// jobs; or nothing for a while (<see cref="BlockedBecause"/> says why), so jobs leased ahead are given back.
/// </summary>
internal readonly record struct LeaseDecision(int Slots, LeasedAttempt? Held, string? BlockedBecause = null)
{
    public static LeaseDecision Wait => default;

    public static LeaseDecision Lease(int slots) => new(slots, null);

    public static LeaseDecision Start(LeasedAttempt held) => new(0, held, "a job that must run alone starts on its worker");

    public static LeaseDecision Blocked(string why) => new(0, null, why);

    /// <summary>True when the pass starts nothing: no slot, or blocked.</summary>
    public bool StartsNothing => Slots == 0 && Held is null;
}

/// <summary>A leased batch sorted by the gate: the jobs to start now, and suspects to give back for other workers.</summary>
internal sealed record Admission(IReadOnlyList<LeasedAttempt> Start, IReadOnlyList<LeasedAttempt> GiveBack);
