namespace Bulwark.Cli.Commands;

/// <summary>The CLI's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>The command was well formed but failed: no such job, wrong state, store unreachable.</summary>
    public const int Failure = 1;

    /// <summary>Bad input: unknown command or option, a malformed value, or a job the validator refuses. Nothing was changed.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Interrupted = 130;
}
