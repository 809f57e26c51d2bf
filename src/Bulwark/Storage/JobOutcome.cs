using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>The fenced end of one attempt. Build with the static factories.</summary>
public sealed record JobOutcome
{
    /// <summary>The lease this outcome belongs to.</summary>
    public required LeaseToken Token { get; init; }
    /// <summary>Which transition to apply.</summary>
    public required OutcomeKind Kind { get; init; }
    /// <summary>Result JSON (Complete only).</summary>
    public string? Result { get; init; }
    /// <summary>The attempt's error record (every kind but Complete).</summary>
    public JobError? Error { get; init; }
    /// <summary>Delay before the retry (Retry only), measured from the store's now.</summary>
    public TimeSpan RetryDelay { get; init; }
    /// <summary>Why it ended in a terminal state, for dead letters and failures.</summary>
    public string? Reason { get; init; }

    /// <summary>The handler succeeded.</summary>
    public static JobOutcome Complete(LeaseToken token, string? result = null) => new() { Token = token, Kind = OutcomeKind.Complete, Result = result };

    /// <summary>Retry after <paramref name="delay"/>.</summary>
    public static JobOutcome Retry(LeaseToken token, JobError error, TimeSpan delay) => new() { Token = token, Kind = OutcomeKind.Retry, Error = error, RetryDelay = delay };

    /// <summary>Permanent failure.</summary>
    public static JobOutcome Fail(LeaseToken token, JobError error) => new() { Token = token, Kind = OutcomeKind.Fail, Error = error, Reason = error.Message };

    /// <summary>Attempts exhausted.</summary>
    public static JobOutcome DeadLetter(LeaseToken token, JobError error, string reason) => new() { Token = token, Kind = OutcomeKind.DeadLetter, Error = error, Reason = reason };

    /// <summary>Give back without charging the attempt.</summary>
    public static JobOutcome Release(LeaseToken token, JobError error) => new() { Token = token, Kind = OutcomeKind.Release, Error = error };

    /// <summary>Stopped after a cancellation request.</summary>
    public static JobOutcome Cancelled(LeaseToken token, JobError error) => new() { Token = token, Kind = OutcomeKind.Cancelled, Error = error, Reason = error.Message };
}
