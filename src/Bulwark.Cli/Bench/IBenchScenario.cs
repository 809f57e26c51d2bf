namespace Bulwark.Cli.Bench;

/// <summary>One <c>bulwark bench</c> scenario: runs <see cref="BenchSettings.Runs"/> times and returns its figures.</summary>
internal interface IBenchScenario
{
    string Name { get; }

    Task<IReadOnlyList<BenchFigure>> RunAsync(BenchSettings settings, CancellationToken cancellationToken);
}
