using Bulwark.Workers;

namespace Bulwark.Hosting;

/// <summary>Fluent configuration of a worker: <c>w =&gt; w.Queues("email", "default").Concurrency(20).Name("w1")</c>.</summary>
public sealed class WorkerBuilder
{
    internal WorkerBuilder(WorkerOptions options) => Options = options;

    /// <summary>The options being built, for settings without a fluent method.</summary>
    public WorkerOptions Options { get; }

    /// <summary>The worker's stable name.</summary>
    public WorkerBuilder Name(string name)
    {
        Options.Name = name;
        return this;
    }

    /// <summary>Queues to serve, in order of preference.</summary>
    public WorkerBuilder Queues(params string[] queues)
    {
        ArgumentNullException.ThrowIfNull(queues);
        Options.Queues.Clear();
        foreach (var queue in queues)
        {
            Options.Queues.Add(queue);
        }

        return this;
    }

    /// <summary>Weights a served queue (≥ 1): queues are then preferred by weighted random draw rather than list order.</summary>
    public WorkerBuilder Weight(string queue, int weight)
    {
        Options.QueueWeights[queue] = weight;
        return this;
    }

    /// <summary>Jobs run at once.</summary>
    public WorkerBuilder Concurrency(int slots)
    {
        Options.Concurrency = slots;
        return this;
    }

    /// <summary>Jobs leased beyond the free slots and held until a slot frees (<see cref="WorkerOptions.LeaseAhead"/>); 0 turns it off.</summary>
    public WorkerBuilder LeaseAhead(int jobs)
    {
        Options.LeaseAhead = jobs;
        return this;
    }

    /// <summary>Lease length and heartbeat interval.</summary>
    public WorkerBuilder Lease(TimeSpan lease, TimeSpan heartbeat)
    {
        Options.LeaseDuration = lease;
        Options.HeartbeatInterval = heartbeat;
        return this;
    }

    /// <summary>Poll interval when no in-process enqueue wakes the worker.</summary>
    public WorkerBuilder Poll(TimeSpan interval)
    {
        Options.PollInterval = interval;
        return this;
    }

    /// <summary>How long a drain waits for running jobs before releasing them.</summary>
    public WorkerBuilder ShutdownTimeout(TimeSpan timeout)
    {
        Options.ShutdownTimeout = timeout;
        return this;
    }

    /// <summary>Soft memory limit in MiB; above it the worker stops leasing.</summary>
    public WorkerBuilder MemoryLimitMegabytes(long megabytes)
    {
        Options.MemoryLimitBytes = megabytes * 1024 * 1024;
        return this;
    }

    /// <summary>Circuit breaker per job type: opens after <paramref name="failures"/> consecutive failures, half-opens after <paramref name="reset"/>.</summary>
    public WorkerBuilder CircuitBreaker(int failures, TimeSpan reset)
    {
        Options.CircuitBreakerThreshold = failures;
        Options.CircuitBreakerResetTime = reset;
        return this;
    }
}
