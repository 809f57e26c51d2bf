namespace Bulwark.Cli.Admin;

/// <summary>What <c>bulwark queues limit</c> changes: the limits given (others kept), or both cleared.</summary>
/// <param name="Rate">New rate limit (jobs per second), or null to keep it.</param>
/// <param name="Concurrency">New concurrency limit, or null to keep it.</param>
/// <param name="Clear">Clear both limits.</param>
internal sealed record QueueLimitChange(double? Rate, int? Concurrency, bool Clear);
