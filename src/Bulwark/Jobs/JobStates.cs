namespace Bulwark.Jobs;

/// <summary>Names and classification of <see cref="JobState"/> values, shared by stores, API and CLI.</summary>
public static class JobStates
{
    /// <summary>Every state, in lifecycle order.</summary>
    public static IReadOnlyList<JobState> All { get; } = Enum.GetValues<JobState>();

    /// <summary>True for states a job never leaves by itself (only an operator's retry or a purge).</summary>
    public static bool IsTerminal(this JobState state) =>
        state is JobState.Completed or JobState.Failed or JobState.DeadLetter or JobState.Cancelled;

    /// <summary>The wire and storage name: <c>pending</c>, <c>scheduled</c>, <c>ready</c>, <c>running</c>,
    /// <c>completed</c>, <c>failed</c>, <c>dead_letter</c>, <c>cancelled</c>.</summary>
    public static string ToName(this JobState state) => state switch
    {
        JobState.Pending => "pending",
        JobState.Scheduled => "scheduled",
        JobState.Ready => "ready",
        JobState.Running => "running",
        JobState.Completed => "completed",
        JobState.Failed => "failed",
        JobState.DeadLetter => "dead_letter",
        JobState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown job state."),
    };

    /// <summary>Parses a state name (case-insensitive; <c>dead_letter</c>, <c>deadletter</c>, <c>dead-letter</c>, <c>dlq</c> all work).</summary>
    public static bool TryParse(string? text, out JobState state)
    {
        state = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var normalized = text.Trim().ToLowerInvariant().Replace("-", "_", StringComparison.Ordinal);
        switch (normalized)
        {
            case "dead_letter" or "deadletter" or "dlq" or "dead": state = JobState.DeadLetter; return true;
            case "canceled": state = JobState.Cancelled; return true;
        }

        foreach (var candidate in All)
        {
            if (candidate.ToName() == normalized)
            {
                state = candidate;
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses a state name or throws an error that lists the valid names.</summary>
    public static JobState Parse(string text) =>
        TryParse(text, out var state)
            ? state
            : throw new JobValidationException("state", $"'{text}' is not a job state; use one of: {string.Join(", ", All.Select(s => s.ToName()))}.");
}
