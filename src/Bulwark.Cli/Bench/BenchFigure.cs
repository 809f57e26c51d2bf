namespace Bulwark.Cli.Bench;

/// <summary>One measured figure: every run's value, summarised as median, min and max, plus load-independent counts.</summary>
internal sealed record BenchFigure(string Scenario, string Name, string Unit, double[] Values, IReadOnlyDictionary<string, double> Counts, double LoadAverage)
{
    public double Median => Sorted[Sorted.Length / 2];

    public double Min => Sorted[0];

    public double Max => Sorted[^1];

    private double[] Sorted => [.. Values.Order()];

    /// <summary>Summarises runs; counts are the medians of each run's counts.</summary>
    public static BenchFigure From(string scenario, string name, string unit, IReadOnlyList<BenchRun> runs) => new(
        scenario,
        name,
        unit,
        [.. runs.Select(r => r.Value)],
        runs.SelectMany(r => r.Counts.Keys).Distinct(StringComparer.Ordinal).ToDictionary(
            k => k,
            k => Percentiles.Median([.. runs.Where(r => r.Counts.ContainsKey(k)).Select(r => r.Counts[k])]),
            StringComparer.Ordinal),
        LoadAverages.Current());
}
