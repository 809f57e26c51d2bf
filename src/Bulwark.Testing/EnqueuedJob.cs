using Bulwark.Jobs;

namespace Bulwark.Testing;

/// <summary>A job found by <see cref="JobHarness.EnqueuedAsync{TPayload}"/>, with its payload read back from JSON.</summary>
/// <param name="Job">The job as stored (queue, type, key, priority, run-at, …).</param>
/// <param name="Payload">The payload, deserialized.</param>
public sealed record EnqueuedJob<TPayload>(JobSnapshot Job, TPayload Payload);
