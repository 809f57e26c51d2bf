using Bulwark.Jobs;

namespace Bulwark.Client;

/// <summary>Per-job options for <see cref="JobClient"/>: <c>o =&gt; o.Key(orderId).Delay(TimeSpan.FromMinutes(5))</c>.</summary>
public sealed class EnqueueOptions
{
    internal int PriorityValue { get; private set; }
    internal TimeSpan? DelayValue { get; private set; }
    internal DateTimeOffset? RunAtValue { get; private set; }
    // Null: not set, so the queue's policy (or the built-in default) applies.
    internal int? MaxAttemptsValue { get; private set; }
    internal TimeSpan? TimeoutValue { get; private set; }
    internal BackoffPolicy? BackoffValue { get; private set; }
    internal string? KeyValue { get; private set; }
    internal List<long> DependsOnValue { get; } = [];
    internal DateTimeOffset? ExpiresAtValue { get; private set; }
    internal TimeSpan? LifetimeValue { get; private set; }

    /// <summary>Higher runs first (default 0).</summary>
    public EnqueueOptions Priority(int priority) { PriorityValue = priority; return this; }

    /// <summary>Start no sooner than this long from now.</summary>
    public EnqueueOptions Delay(TimeSpan delay)
    {
        if (delay < TimeSpan.Zero)
        {
            throw new JobValidationException("delay", $"The delay cannot be negative (got -{DurationText.Format(delay.Duration())}).");
        }

        DelayValue = delay;
        return this;
    }

    /// <summary>Start no sooner than this moment.</summary>
    public EnqueueOptions RunAt(DateTimeOffset runAt) { RunAtValue = runAt; return this; }

    /// <summary>Attempts in all (default: the queue's policy, else 3: the first and two retries).</summary>
    public EnqueueOptions MaxAttempts(int maxAttempts) { MaxAttemptsValue = maxAttempts; return this; }

    /// <summary>Execution timeout of one attempt (default: the queue's policy, else 30 min).</summary>
    public EnqueueOptions Timeout(TimeSpan timeout) { TimeoutValue = timeout; return this; }

    /// <summary>Delay policy between attempts (default: the queue's policy, else exponential from 1 s).</summary>
    public EnqueueOptions Backoff(BackoffPolicy backoff) { BackoffValue = backoff ?? throw new ArgumentNullException(nameof(backoff)); return this; }

    /// <summary>Idempotency key: while a job with this key is not terminal, enqueue returns that job's id.</summary>
    public EnqueueOptions Key(string key) { KeyValue = key; return this; }

    /// <summary>Jobs that must complete first.</summary>
    public EnqueueOptions DependsOn(params long[] jobIds) { DependsOnValue.AddRange(jobIds); return this; }

    /// <summary>Lifetime limit: not completed by then, the job goes to dead letter.</summary>
    public EnqueueOptions ExpiresAt(DateTimeOffset expiresAt) { ExpiresAtValue = expiresAt; return this; }

    /// <summary>Lifetime limit measured from now.</summary>
    public EnqueueOptions Lifetime(TimeSpan lifetime) { LifetimeValue = lifetime; return this; }
}
