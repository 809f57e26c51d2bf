namespace Bulwark.Storage;

/// <summary>One heartbeat: the worker's fresh registration and the leases it believes it holds.</summary>
/// <param name="Worker">The registration, with current state, active jobs and memory.</param>
/// <param name="Held">The leases the worker holds; each is renewed, or reported lost.</param>
/// <param name="LeaseDuration">New lease length from the store's now.</param>
public sealed record WorkerHeartbeat(WorkerRegistration Worker, IReadOnlyList<LeaseToken> Held, TimeSpan LeaseDuration);
