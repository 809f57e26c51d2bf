namespace Bulwark.GameDay;

/// <summary>What <c>bulwark gameday</c> was asked to run.</summary>
internal sealed record GameDayOptions
{
    /// <summary>The <c>Bulwark.Cli.dll</c> whose <c>serve</c> and <c>worker</c> commands are put under test.</summary>
    public required string CliDll { get; init; }

    /// <summary>Short, CI-sized runs.</summary>
    public bool Quick { get; init; }

    /// <summary>A SQLite path prefix: scenario S uses <c>PATH.S.db</c>; null: a fresh file in the work directory.</summary>
    public string? StorePrefix { get; init; }

    /// <summary>A PostgreSQL server (postgres:// URL or Npgsql connection string): each scenario runs on a fresh database there.</summary>
    public string? Postgres { get; init; }

    /// <summary>Where each scenario keeps its store, append file and process logs.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>Progress lines go here (stderr in the CLI).</summary>
    public required TextWriter Progress { get; init; }
}
