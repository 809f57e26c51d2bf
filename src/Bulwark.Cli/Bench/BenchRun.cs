namespace Bulwark.Cli.Bench;

/// <summary>One run's value and its counts (statements per job and the like, which do not depend on the machine's load).</summary>
internal sealed record BenchRun(double Value, IReadOnlyDictionary<string, double> Counts)
{
    public static BenchRun Of(double value) => new(value, new Dictionary<string, double>());
}
