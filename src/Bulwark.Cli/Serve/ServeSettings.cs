namespace Bulwark.Cli.Serve;

/// <summary>What <c>bulwark serve</c> was asked to run.</summary>
internal sealed record ServeSettings
{
    public required IReadOnlyList<string> Urls { get; init; }

    public required string StorePath { get; init; }

    public required int Workers { get; init; }

    public required IReadOnlyList<string> Queues { get; init; }

    /// <summary>The in-process worker's name (<c>--name</c>); null keeps the default, unique per process.</summary>
    public string? Name { get; init; }
}
