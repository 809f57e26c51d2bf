namespace Bulwark.Jobs;

/// <summary>The record of one attempt that did not complete.</summary>
/// <param name="Attempt">The attempt number (1-based).</param>
/// <param name="WorkerId">The worker that ran it, if any.</param>
/// <param name="StartedAt">When the attempt started (wall clock).</param>
/// <param name="EndedAt">When it ended or was found abandoned.</param>
/// <param name="Category">Why it ended.</param>
/// <param name="Message">The error message.</param>
/// <param name="StackTrace">The exception's stack trace, when there was one.</param>
/// <param name="ExceptionType">The exception's full type name, when there was one.</param>
public sealed record JobError(
    int Attempt,
    string? WorkerId,
    DateTimeOffset? StartedAt,
    DateTimeOffset EndedAt,
    FailureCategory Category,
    string Message,
    string? StackTrace = null,
    string? ExceptionType = null);
