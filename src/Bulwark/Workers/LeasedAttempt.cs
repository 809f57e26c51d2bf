using Bulwark.Storage;

namespace Bulwark.Workers;

/// <summary>A job this worker leased and has not started yet; <see cref="IsTrial"/> marks a half-open circuit's one trial.</summary>
internal sealed record LeasedAttempt(LeasedJob Job, bool IsTrial);
