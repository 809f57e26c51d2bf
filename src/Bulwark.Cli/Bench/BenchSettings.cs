namespace Bulwark.Cli.Bench;

/// <summary>What <c>bulwark bench</c> was asked to run.</summary>
internal sealed record BenchSettings
{
    /// <summary>Folder for the fresh store files each run creates (and deletes).</summary>
    public required string Directory { get; init; }

    /// <summary>A PostgreSQL connection string or URL: each run then uses a fresh schema of that database (dropped afterwards).</summary>
    public string? Postgres { get; init; }

    public required bool Quick { get; init; }

    public required int Runs { get; init; }

    public string? JsonPath { get; init; }

    /// <summary>The workers' <c>LeaseAhead</c>; null leaves the worker's default.</summary>
    public int? LeaseAhead { get; init; }

    /// <summary>The CLI itself, started as <c>dotnet Bulwark.Cli.dll worker …</c> by the recovery scenario.</summary>
    public required string CliDll { get; init; }

    public required TextWriter Progress { get; init; }
}
