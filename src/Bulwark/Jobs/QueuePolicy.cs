namespace Bulwark.Jobs;

/// <summary>
/// A queue's defaults for the jobs enqueued to it: attempts, backoff and timeout (applied at enqueue to a job that does not
/// set its own) and how long its finished jobs are kept. A field left null falls through to the next source: a job's own
/// setting, then the policy stored fleet-wide (<c>PUT /queues/{q}/policy</c>, <c>bulwark queues policy</c>), then the
/// process's configuration (<c>Bulwark:Queues:&lt;queue&gt;</c>), then the built-in defaults.
/// </summary>
public sealed record QueuePolicy
{
    /// <summary>Longest retention accepted.</summary>
    public static readonly TimeSpan MaxRetention = TimeSpan.FromDays(3650);

    /// <summary>No defaults: every field falls through.</summary>
    public static QueuePolicy None { get; } = new();

    /// <summary>Attempts in all for a job that does not set <c>max_attempts</c>.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Delay policy between attempts for a job that does not set <c>backoff</c>.</summary>
    public BackoffPolicy? Backoff { get; init; }

    /// <summary>Execution timeout of one attempt for a job that does not set <c>timeout</c>.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How long the queue's finished jobs (completed, failed, dead letter, cancelled) are kept before a purge deletes them.</summary>
    public TimeSpan? Retention { get; init; }

    /// <summary>True when no field is set.</summary>
    public bool IsNone => MaxAttempts is null && Backoff is null && Timeout is null && Retention is null;

    /// <summary>This policy's fields, each falling back to <paramref name="lower"/>'s where this one has none.</summary>
    public QueuePolicy Over(QueuePolicy? lower) => lower is null ? this : new QueuePolicy
    {
        MaxAttempts = MaxAttempts ?? lower.MaxAttempts,
        Backoff = Backoff ?? lower.Backoff,
        Timeout = Timeout ?? lower.Timeout,
        Retention = Retention ?? lower.Retention,
    };

    /// <summary>Returns this or throws a <see cref="JobValidationException"/> naming the field and what to change (the same bounds as a job's own).</summary>
    public QueuePolicy Validate()
    {
        if (MaxAttempts is { } attempts && attempts is < 1 or > JobValidator.MaxAttemptsLimit)
        {
            throw new JobValidationException("max_attempts", $"max_attempts must be between 1 and {JobValidator.MaxAttemptsLimit} (got {attempts}); 1 means no retries.");
        }

        if (Timeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > JobValidator.MaxTimeout))
        {
            throw new JobValidationException("timeout", $"The timeout must be positive and at most {DurationText.Format(JobValidator.MaxTimeout)} (got {(timeout < TimeSpan.Zero ? "-" : "")}{DurationText.Format(timeout.Duration())}).");
        }

        if (Retention is { } retention && (retention < TimeSpan.Zero || retention > MaxRetention))
        {
            throw new JobValidationException("retention", $"The retention must be between 0s (purge at once) and {DurationText.Format(MaxRetention)} (got {(retention < TimeSpan.Zero ? "-" : "")}{DurationText.Format(retention.Duration())}).");
        }

        Backoff?.Validated();
        return this;
    }
}
