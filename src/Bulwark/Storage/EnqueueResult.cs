namespace Bulwark.Storage;

/// <summary>The answer for one job of an enqueue batch.</summary>
/// <param name="Id">The job's id (the existing job's, when deduplicated).</param>
/// <param name="Deduplicated">True when a live job with the same idempotency key already existed and nothing new was stored.</param>
public readonly record struct EnqueueResult(long Id, bool Deduplicated);
