namespace Bulwark.GameDay.Chaos;

/// <summary>
/// What one round recorded from outside the system: each acknowledged enqueue, each cancel and its answer, each
/// execution (the <c>demo.trace</c> lines of every worker process), when the API first showed each job completed
/// (polled while the round ran) and, once the queue settled, each job's final state.
/// Times are Unix milliseconds of this machine's clock, which every process of the round shares.
/// </summary>
internal sealed record ChaosHistory(
    IReadOnlyList<AckRecord> Acks,
    IReadOnlyList<CancelRecord> Cancels,
    IReadOnlyList<TraceRecord> Executions,
    IReadOnlyList<FinalRecord> Finals,
    IReadOnlyList<SeenRecord> SeenCompleted)
{
    /// <summary>The history as text, one record a line, for the round's artifacts.</summary>
    public IEnumerable<string> Lines() =>
        Acks.Select(a => $"ack {a.JobId} {a.AtUnixMs}")
            .Concat(Cancels.Select(c => $"cancel {c.JobId} {c.Answer} {c.AtUnixMs}"))
            .Concat(SeenCompleted.Select(c => $"seen-completed {c.JobId} {c.AtUnixMs}"))
            .Concat(Executions.OrderBy(e => e.AtUnixMs).Select(e => e.ToString()))
            .Concat(Finals.Select(f => $"final {f.JobId} {f.State} lease {f.LeaseEpoch} result-lease {f.ResultEpoch?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} failures-at-lease [{string.Join(',', f.FailedAtEpochs)}]"));
}

/// <summary>The API acknowledged job <paramref name="JobId"/> at this moment.</summary>
internal sealed record AckRecord(long JobId, long AtUnixMs);

/// <summary>A cancel of job <paramref name="JobId"/> answered <paramref name="Answer"/> (<c>cancelled</c>, <c>cancellation_requested</c>, <c>conflict</c>) at this moment.</summary>
internal sealed record CancelRecord(long JobId, string Answer, long AtUnixMs);

/// <summary>
/// A job as the store holds it at the end: its state, its last lease epoch, the lease its result names (demo.trace
/// returns its own lease identity) and the leases its recorded handler failures name.
/// </summary>
internal sealed record FinalRecord(long JobId, string State, long LeaseEpoch, long? ResultEpoch, IReadOnlyList<long> FailedAtEpochs);

/// <summary>The API listed job <paramref name="JobId"/> as completed at this moment (the first poll that did).</summary>
internal sealed record SeenRecord(long JobId, long AtUnixMs);
