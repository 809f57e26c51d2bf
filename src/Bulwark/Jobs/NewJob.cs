namespace Bulwark.Jobs;

/// <summary>
/// A validated request to create a job, as a store receives it. Check one with <see cref="JobValidator.Validate"/>
/// (or through <c>JobClient</c>), which checks every field before anything reaches a store.
/// </summary>
public sealed record NewJob
{
    /// <summary>Queue name, <c>[a-z0-9][a-z0-9._:-]{0,63}</c>.</summary>
    public required string Queue { get; init; }
    /// <summary>Handler name.</summary>
    public required string Type { get; init; }
    /// <summary>Payload, valid JSON text.</summary>
    public required string Payload { get; init; }
    /// <summary>Higher runs first.</summary>
    public int Priority { get; init; }
    /// <summary>Earliest start (wall clock); null means now, by the store's clock.</summary>
    public DateTimeOffset? RunAt { get; init; }
    /// <summary>Attempts allowed in all (≥ 1). Setting it makes it the job's own (see <see cref="OwnSettings"/>).</summary>
    public int MaxAttempts { get => _maxAttempts; init { _maxAttempts = value; _own |= JobSettings.MaxAttempts; } }
    /// <summary>Execution timeout of one attempt (&gt; 0). Setting it makes it the job's own.</summary>
    public TimeSpan Timeout { get => _timeout; init { _timeout = value; _own |= JobSettings.Timeout; } }
    /// <summary>Delay policy between attempts. Setting it makes it the job's own.</summary>
    public BackoffPolicy Backoff { get => _backoff; init { _backoff = value; _own |= JobSettings.Backoff; } }

    /// <summary>
    /// Which of <see cref="MaxAttempts"/>, <see cref="Timeout"/> and <see cref="Backoff"/> the job set itself. The others hold
    /// defaults, which the queue's policy replaces at enqueue (<see cref="WithQueuePolicy"/>): a job's own setting wins.
    /// </summary>
    public JobSettings OwnSettings => _own;
    /// <summary>Idempotency key: while a job with this key is not terminal, enqueue returns that job.</summary>
    public string? Key { get; init; }
    /// <summary>Ids of existing jobs that must complete first.</summary>
    public IReadOnlyList<long> DependsOn { get; init; } = [];
    /// <summary>Indexes of earlier jobs in the same batch that must complete first (how flows name their edges atomically).</summary>
    public IReadOnlyList<int> DependsOnBatchIndexes { get; init; } = [];
    /// <summary>Lifetime limit.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>W3C trace context of the producer.</summary>
    public string? TraceParent { get; init; }

    private int _maxAttempts = JobDefaults.MaxAttempts;
    private TimeSpan _timeout = JobDefaults.Timeout;
    private BackoffPolicy _backoff = BackoffPolicy.Default;
    private JobSettings _own;

    /// <summary>
    /// This job with <paramref name="policy"/>'s attempts, timeout and backoff in the settings the job did not set itself
    /// (they stay defaults, so a later, higher-ranking policy may still replace them). Returns this job when nothing changes.
    /// The policy must be valid (<see cref="QueuePolicy.Validate"/>).
    /// </summary>
    public NewJob WithQueuePolicy(QueuePolicy? policy)
    {
        if (policy is null)
        {
            return this;
        }

        var maxAttempts = (_own & JobSettings.MaxAttempts) == 0 && policy.MaxAttempts is { } m ? m : _maxAttempts;
        var timeout = (_own & JobSettings.Timeout) == 0 && policy.Timeout is { } t ? t : _timeout;
        var backoff = (_own & JobSettings.Backoff) == 0 && policy.Backoff is { } b ? b : _backoff;
        if (maxAttempts == _maxAttempts && timeout == _timeout && ReferenceEquals(backoff, _backoff))
        {
            return this;
        }

        var copy = this with { };
        copy._maxAttempts = maxAttempts;
        copy._timeout = timeout;
        copy._backoff = backoff;
        if (ReferenceEquals(_validation.Job, this))
        {
            // A valid job with a valid policy's values is still valid: keep the proof rather than parse the payload again.
            copy._validation = new ValidationStamp(copy, _validation.MaxPayloadBytes);
        }

        return copy;
    }

    // Proof that this very instance passed JobValidator.Validate, so a store or client need not parse and match it again.
    // A copy made with `with` carries its original's stamp, which names the original, so the copy is validated afresh.
    private ValidationStamp _validation = ValidationStamp.None;

    /// <summary>Whether this instance passed <see cref="JobValidator.Validate"/> with a payload limit no larger than <paramref name="maxPayloadBytes"/>.</summary>
    internal bool IsValidatedFor(int maxPayloadBytes) => ReferenceEquals(_validation.Job, this) && _validation.MaxPayloadBytes <= maxPayloadBytes;

    /// <summary>Only <see cref="JobValidator"/> calls this, after every per-job check passed.</summary>
    internal void MarkValidated(int maxPayloadBytes) => _validation = new ValidationStamp(this, maxPayloadBytes);

    /// <summary>Equal to every other stamp, so the record's value equality and hash code ignore it.</summary>
    private sealed class ValidationStamp(NewJob? job, int maxPayloadBytes)
    {
        internal static readonly ValidationStamp None = new(null, 0);

        internal NewJob? Job { get; } = job;

        internal int MaxPayloadBytes { get; } = maxPayloadBytes;

        public override bool Equals(object? obj) => obj is ValidationStamp;

        public override int GetHashCode() => 0;
    }
}
