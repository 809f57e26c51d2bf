namespace Bulwark.GameDay.Api;

/// <summary>One attempt's error record, as <c>GET /jobs/{id}</c> shows it.</summary>
internal sealed record JobErrorRow(int Attempt, string? WorkerId, DateTimeOffset? StartedAt, DateTimeOffset EndedAt, string Category, string Message, string? StackTrace, string? ExceptionType);
