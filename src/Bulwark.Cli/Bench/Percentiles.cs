namespace Bulwark.Cli.Bench;

/// <summary>Nearest-rank percentiles over a run's samples.</summary>
internal static class Percentiles
{
    public static double Of(double[] sorted, double percentile)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(double[] values) => values.Length == 0 ? double.NaN : values.Order().ElementAt(values.Length / 2);
}
