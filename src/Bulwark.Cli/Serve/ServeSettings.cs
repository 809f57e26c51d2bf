namespace Bulwark.Cli.Serve;

/// <summary>What <c>bulwark serve</c> was asked to run.</summary>
internal sealed record ServeSettings
{
    public required IReadOnlyList<string> Urls { get; init; }

    public required string StorePath { get; init; }

    public required int Workers { get; init; }

    public required IReadOnlyList<string> Queues { get; init; }
}
