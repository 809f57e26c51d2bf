namespace Bulwark.GameDay.Api;

/// <summary>A job as the harness reads it back through the API (summary fields only).</summary>
internal sealed record JobRow(
    long Id, string State, int Priority, int Attempt, string? LeaseOwner, string? Reason,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt);
