using System.CommandLine;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bulwark.Cli.Commands;

/// <summary>
/// What <c>bulwark serve</c> and <c>bulwark worker</c> share: the store and queue options, and running a host body
/// synchronously so that its failures become one stderr line and an exit code.
/// </summary>
internal static class HostedCommand
{
    public static Option<string?> StoreOption() => new("--store")
    {
        Description = "The SQLite store file (default ./bulwark.db, or $BULWARK_STORE), or a postgres:// URL or Npgsql connection string; ?schema=NAME in the URL (or Schema=NAME) picks the schema of the tables (default bulwark).",
        HelpName = "PATH",
    };

    public static Option<string[]> QueuesOption(string description) => new("--queues")
    {
        Description = description,
        HelpName = "A,B",
        CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray(),
    };

    /// <summary>
    /// The stable name of the host's worker. A restart under the same name on the same host reclaims the jobs its
    /// predecessor was running at once, instead of after the dead-worker timeout.
    /// </summary>
    public static Option<string?> NameOption() => new("--name")
    {
        Description = "Stable worker name; restarting with the same name on this host reclaims its jobs at once (default host-pid, unique per process).",
        HelpName = "NAME",
    };

    /// <summary>The store given, else <c>$BULWARK_STORE</c>, else <c>./bulwark.db</c>.</summary>
    public static string StorePath(string? given) =>
        given ?? NonEmpty(Environment.GetEnvironmentVariable("BULWARK_STORE")) ?? ConnectionOptions.DefaultStorePath;

    /// <summary>The queues given by flag, or null: then the configuration (<c>Bulwark:Worker:Queues</c>) or the default decides.</summary>
    public static string[]? Queues(string[]? given) => given is { Length: > 0 } ? given : null;

    /// <summary>
    /// Runs <paramref name="body"/>; bad input and a damaged store are reported the same way for both commands, and
    /// <paramref name="otherwise"/> says how the command reports any other exception (null lets it propagate).
    /// </summary>
    public static int Run(Func<int> body, Func<Exception, (int ExitCode, string Message)?> otherwise)
    {
        try
        {
            return body();
        }
        catch (CliException ex)
        {
            return Fail(ex.ExitCode, ex.Message);
        }
        catch (JobValidationException ex)
        {
            return Fail(ExitCodes.Usage, ex.Reason);
        }
        catch (StoreCorruptException ex)
        {
            return Fail(ExitCodes.Failure, $"The store is damaged: {ex.Message}");
        }
        catch (Exception ex)
        {
            if (otherwise(ex) is not { } failure)
            {
                throw;
            }

            return Fail(failure.ExitCode, failure.Message);
        }
    }

    /// <summary>
    /// Runs the configuration checks that would otherwise stop the host at start-up (with the host's own log line and
    /// a stack trace), so a bad <c>Bulwark:*</c> setting ends as one line before anything is printed or started.
    /// </summary>
    public static void ValidateConfiguration(IServiceProvider services) => services.GetService<IStartupValidator>()?.Validate();

    /// <summary>
    /// A bad setting, from a flag or from configuration (an unknown key, a malformed value, an unusable combination):
    /// the one line to show, or null when <paramref name="ex"/> is something else.
    /// </summary>
    public static string? ConfigurationProblem(Exception ex) => ex switch
    {
        WorkerOptionsException => ex.Message,
        OptionsValidationException options => "the configuration is not usable: " + string.Join(" ", options.Failures),
        AggregateException aggregate when aggregate.InnerExceptions.All(e => e is OptionsValidationException) =>
            "the configuration is not usable: " + string.Join(" ", aggregate.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)),
        _ => null,
    };

    private static int Fail(int exitCode, string message)
    {
        Console.Error.WriteLine($"bulwark: {message}");
        return exitCode;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
