using System.Collections.Concurrent;
using Bulwark.Diagnostics;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// Every lease this worker holds, by where its job is: running in a slot, finishing (handler ended, outcome not yet
/// durable), abandoned (handler ignored its token and still runs), a suspect held until it can run alone, or leased ahead
/// of free slots and waiting in the <see cref="Buffer"/>. Answers
/// the heartbeat: which leases to renew, and what a lost lease or a cancel request does to each job.
/// </summary>
internal sealed class LeaseBook(BulwarkMetrics metrics, ILogger logger)
{
    private readonly ConcurrentDictionary<LeaseToken, RunningJob> _running = new();

    // Handler ended, outcome awaiting its commit: no longer in a slot, but the lease is still held and renewed, so a slow
    // or failing write cannot let another worker run the job again.
    private readonly ConcurrentDictionary<LeaseToken, RunningJob> _finishing = new();
    private readonly ConcurrentDictionary<LeaseToken, RunningJob> _abandoned = new();

    // A suspect leased while others ran: held (its lease renewed) until nothing else is in flight. Swapped with
    // compare-and-exchange: the leasing loop, the heartbeat and the drain may each try to take it.
    private LeasedAttempt? _held;
    private long _heldValidUntil;

    // The suspect running alone now; only the leasing loop reads and writes it.
    private LeaseToken? _alone;

    public ICollection<RunningJob> Running => _running.Values;

    /// <summary>Jobs leased ahead of free slots, not started yet.</summary>
    public LeaseBuffer Buffer { get; } = new();

    public int RunningCount => _running.Count;

    public int FinishingCount => _finishing.Count;

    public int AbandonedCount => _abandoned.Count;

    public bool IsRunningEmpty => _running.IsEmpty;

    public bool IsFinishingEmpty => _finishing.IsEmpty;

    /// <summary>Nothing running and no outcome unwritten: a crash now would cost no other job anything.</summary>
    public bool NothingInFlight => _running.IsEmpty && _finishing.IsEmpty;

    public LeasedAttempt? Held => Volatile.Read(ref _held);

    public void Start(RunningJob run) => _running[run.Job.Token] = run;

    /// <summary>The handler ended: the slot frees, the lease stays (added to finishing before leaving running, so no beat misses it).</summary>
    public void MoveToFinishing(RunningJob run)
    {
        _finishing[run.Job.Token] = run;
        _running.TryRemove(run.Job.Token, out _);
    }

    /// <summary>A lease ended without a slot (a job given back unstarted): renewed until its outcome is written.</summary>
    public void AddFinishing(RunningJob run) => _finishing[run.Job.Token] = run;

    /// <summary>The outcome is written: the lease is gone. The token source is kept while an abandoned handler still runs.</summary>
    public void Finished(RunningJob run)
    {
        _finishing.TryRemove(run.Job.Token, out _);
        if (!_abandoned.ContainsKey(run.Job.Token))
        {
            run.Dispose();
        }
    }

    /// <summary>
    /// Claims the right to record an outcome for a handler that is still running. Marked abandoned before settling, so a
    /// handler finishing at this instant never leaves a stale entry. False when the handler settled first.
    /// </summary>
    public bool TryAbandon(RunningJob run)
    {
        _abandoned[run.Job.Token] = run;
        if (run.TrySettle())
        {
            return true;
        }

        _abandoned.TryRemove(run.Job.Token, out _);
        return false;
    }

    /// <summary>An abandoned handler finally returned; its outcome was recorded already.</summary>
    public void AbandonedEnded(RunningJob run)
    {
        _abandoned.TryRemove(run.Job.Token, out _);
        run.Dispose();
    }

    public void Hold(LeasedAttempt suspect, DateTimeOffset leaseValidUntil)
    {
        Volatile.Write(ref _heldValidUntil, leaseValidUntil.UtcTicks);
        Volatile.Write(ref _held, suspect);
    }

    /// <summary>
    /// True when the held suspect's lease may have lapsed at <paramref name="now"/>: no renewal confirmed it for a whole
    /// lease (a starved heartbeat on a loaded machine). Reclaim may then have taken it back and charged it, so it must
    /// not start here.
    /// </summary>
    public bool HeldLeaseMayHaveLapsed(DateTimeOffset now) => now.UtcTicks >= Volatile.Read(ref _heldValidUntil);

    /// <summary>Takes the held suspect if it is still <paramref name="expected"/>; exactly one caller wins.</summary>
    public bool TryTakeHeld(LeasedAttempt expected) => Interlocked.CompareExchange(ref _held, null, expected) == expected;

    public LeasedAttempt? TakeHeld() => Interlocked.Exchange(ref _held, null);

    public void RunsAlone(LeaseToken token) => _alone = token;

    /// <summary>True while the suspect started alone still runs; forgets it once it ended.</summary>
    public bool SuspectRunsAlone()
    {
        if (_alone is not { } alone)
        {
            return false;
        }

        if (_running.ContainsKey(alone))
        {
            return true;
        }

        _alone = null;
        return false;
    }

    /// <summary>The leases a heartbeat renews: running (unless already lost), finishing, the held suspect and the buffered jobs.</summary>
    /// <param name="validUntilIfRenewed">Until when the held suspect's and the buffered jobs' leases hold if this beat renews them (beat start + lease).</param>
    public LeaseRenewal Renewals(DateTimeOffset? validUntilIfRenewed = null)
    {
        var held = Held;
        var buffered = Buffer.Tokens();
        var tokens = _running.Where(kv => kv.Value.Reason != CancelReason.LeaseLost).Select(kv => kv.Key).Union(_finishing.Keys)
            .Concat(held is null ? [] : [held.Job.Token]).Concat(buffered).ToArray();
        return new LeaseRenewal(tokens, held) { HeldValidUntil = validUntilIfRenewed, Buffered = buffered };
    }

    /// <summary>
    /// Applies the store's answer to a beat: cancels handlers whose lease was lost or whose job a user cancelled, and drops
    /// the suspect held at the beat if either befell it. Returns that suspect when it must end as cancelled.
    /// </summary>
    public LeasedAttempt? Apply(HeartbeatResult result, LeaseRenewal renewal)
    {
        foreach (var token in result.Lost)
        {
            // A handler that already ended is writing its outcome: the store answered for a lease that outcome just
            // closed (the beat raced the completion), so nothing was lost.
            if (_running.TryGetValue(token, out var run) && !run.IsSettled)
            {
                metrics.LeaseLost();
                WorkerLog.LeaseLost(logger, token);
                run.Cancel(CancelReason.LeaseLost);
            }
        }

        LeasedAttempt? cancelled = null;
        if (renewal.Held is { } renewed && renewal.HeldValidUntil is { } until && !result.Lost.Contains(renewed.Job.Token) && ReferenceEquals(Held, renewed))
        {
            Volatile.Write(ref _heldValidUntil, until.UtcTicks);
        }

        if (renewal.Held is { } held && (result.Lost.Contains(held.Job.Token) || result.CancelRequested.Contains(held.Job.Token))
            && TryTakeHeld(held) && result.CancelRequested.Contains(held.Job.Token))
        {
            // Never started: a lost lease needs nothing more; a cancel ends it as cancelled, through the completer.
            cancelled = held;
        }

        foreach (var token in result.CancelRequested)
        {
            if (_running.TryGetValue(token, out var run) && run.Reason == CancelReason.None)
            {
                WorkerLog.CancelRequested(logger, token.JobId);
                run.Cancel(CancelReason.CancelRequested);
            }
        }

        return cancelled;
    }
}

/// <summary>The leases one heartbeat renews, and the suspect that was held when it was taken.</summary>
internal sealed record LeaseRenewal(IReadOnlyList<LeaseToken> Tokens, LeasedAttempt? Held)
{
    /// <summary>Until when the held suspect's (and the buffered jobs') leases hold if the beat renews them; null leaves the last known validity.</summary>
    public DateTimeOffset? HeldValidUntil { get; init; }

    /// <summary>The buffered jobs' leases this beat renews (<see cref="LeaseBuffer"/>).</summary>
    public IReadOnlyList<LeaseToken> Buffered { get; init; } = [];
}
