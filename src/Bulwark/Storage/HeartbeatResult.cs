namespace Bulwark.Storage;

/// <summary>The answer to a heartbeat.</summary>
/// <param name="Lost">Held leases the store no longer grants (reclaimed, finished elsewhere, cancelled): their handlers must stop.</param>
/// <param name="CancelRequested">Held leases whose jobs a user asked to cancel.</param>
/// <param name="Renewed">How many leases were renewed.</param>
public sealed record HeartbeatResult(IReadOnlyList<LeaseToken> Lost, IReadOnlyList<LeaseToken> CancelRequested, int Renewed);
