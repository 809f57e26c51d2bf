namespace Bulwark.Workers;

/// <summary>The names of <see cref="CircuitState"/> in stores and JSON: <c>closed</c>, <c>half_open</c>, <c>open</c>.</summary>
public static class CircuitStates
{
    /// <summary>The snake_case name of <paramref name="state"/>.</summary>
    public static string ToName(this CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.HalfOpen => "half_open",
        CircuitState.Open => "open",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown circuit state."),
    };

    /// <summary>Parses a name written by <see cref="ToName"/>; false for anything else.</summary>
    public static bool TryParse(string? text, out CircuitState state)
    {
        foreach (var candidate in Enum.GetValues<CircuitState>())
        {
            if (string.Equals(candidate.ToName(), text, StringComparison.Ordinal))
            {
                state = candidate;
                return true;
            }
        }

        state = default;
        return false;
    }
}
