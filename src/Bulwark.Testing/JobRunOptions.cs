using Bulwark.Client;

namespace Bulwark.Testing;

/// <summary>How <see cref="JobHarness"/> runs one attempt: <c>o =&gt; o.Checkpoint(new { page = 3 }).Enqueue(e =&gt; e.MaxAttempts(1))</c>.</summary>
public sealed class JobRunOptions
{
    internal string? TypeValue { get; private set; }
    internal string? QueueValue { get; private set; }
    internal string? CheckpointValue { get; private set; }
    internal int? ProgressValue { get; private set; }
    internal Action<EnqueueOptions>? EnqueueValue { get; private set; }

    /// <summary>The job type (default: the one declared with <c>[JobType]</c>, else <c>test.job</c>).</summary>
    public JobRunOptions Type(string type) { TypeValue = type; return this; }

    /// <summary>The queue (default: the one declared with <c>[JobType]</c>, else <c>default</c>).</summary>
    public JobRunOptions Queue(string queue) { QueueValue = queue; return this; }

    /// <summary>A checkpoint (JSON) an earlier attempt saved, as a retry finds it in <c>JobContext.Checkpoint</c>.</summary>
    public JobRunOptions Checkpoint(string json) { CheckpointValue = json; return this; }

    /// <summary>A checkpoint object an earlier attempt saved (serialized to JSON with the client's options).</summary>
    public JobRunOptions Checkpoint<T>(T checkpoint) { CheckpointValue = System.Text.Json.JsonSerializer.Serialize(checkpoint, new JobClientOptions().SerializerOptions); return this; }

    /// <summary>Progress (0–100) an earlier attempt reported.</summary>
    public JobRunOptions Progress(int progress) { ArgumentOutOfRangeException.ThrowIfNegative(progress); ArgumentOutOfRangeException.ThrowIfGreaterThan(progress, 100); ProgressValue = progress; return this; }

    /// <summary>Options of the enqueued job (max attempts, timeout, backoff, …). Delays, run-at times and dependencies would keep it from running.</summary>
    public JobRunOptions Enqueue(Action<EnqueueOptions> configure) { EnqueueValue = configure; return this; }
}
