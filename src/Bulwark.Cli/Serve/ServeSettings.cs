namespace Bulwark.Cli.Serve;

/// <summary>What <c>bulwark serve</c> was asked to run.</summary>
internal sealed record ServeSettings
{
    public required IReadOnlyList<string> Urls { get; init; }

    public required string StorePath { get; init; }

    /// <summary>In-process worker slots (<c>--workers</c>); null when not given: Bulwark:Worker:Concurrency, else 4.</summary>
    public int? Workers { get; init; }

    /// <summary>The in-process worker's queues (<c>--queues</c>); null when not given: Bulwark:Worker:Queues, else default.</summary>
    public IReadOnlyList<string>? Queues { get; init; }

    /// <summary>The in-process worker's name (<c>--name</c>); null keeps the default, unique per process.</summary>
    public string? Name { get; init; }
}
