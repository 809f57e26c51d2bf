namespace Bulwark.Cli;

/// <summary>The arguments every host the CLI builds gets (the CLI's own arguments are parsed by System.CommandLine, not the host).</summary>
internal static class CliHostArgs
{
    /// <summary>
    /// No reload of appsettings on change: Bulwark reads its configuration once, and the watcher would otherwise watch the
    /// working directory tree, where the store file usually lives, waking on every commit.
    /// </summary>
    public static string[] Value => ["--hostBuilder:reloadConfigOnChange=false"];
}
