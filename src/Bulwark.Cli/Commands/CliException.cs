namespace Bulwark.Cli.Commands;

/// <summary>A failure to report to the user as one line on stderr with an exit code, without a stack trace.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
