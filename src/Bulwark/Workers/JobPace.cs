namespace Bulwark.Workers;

/// <summary>
/// How long this worker's handlers have taken lately: an exponentially weighted mean of handler durations. Leasing ahead
/// is sized by it, so a worker buffers about what its slots finish within <see cref="Horizon"/>: many short jobs, and
/// none of the long ones another worker could start at once.
/// </summary>
internal sealed class JobPace
{
    /// <summary>How far ahead a buffer may reach, in time its slots would take to work through it.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromSeconds(1);

    // Weight of the newest duration: about the last 20 jobs count.
    private const double Weight = 0.05;

    private readonly object _gate = new();
    private double _meanTicks = double.NaN;

    public void Record(TimeSpan duration)
    {
        var ticks = Math.Max(1, duration.Ticks);
        lock (_gate)
        {
            _meanTicks = double.IsNaN(_meanTicks) ? ticks : _meanTicks + (Weight * (ticks - _meanTicks));
        }
    }

    /// <summary>Jobs <paramref name="slots"/> slots finish within <see cref="Horizon"/> at the recent pace; 0 before any job ended.</summary>
    public int JobsWithinHorizon(int slots)
    {
        double mean;
        lock (_gate)
        {
            mean = _meanTicks;
        }

        return double.IsNaN(mean) ? 0 : (int)Math.Min(int.MaxValue, Math.Floor(slots * (Horizon.Ticks / mean)));
    }
}
