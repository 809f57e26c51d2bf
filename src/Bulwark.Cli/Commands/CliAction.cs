using System.CommandLine;
using Bulwark.Cli.Admin;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Cli.Commands;

/// <summary>Runs command bodies so that every failure becomes one clear stderr line and the right exit code.</summary>
internal static class CliAction
{
    /// <summary>Wraps a command body: bad input exits 2, other failures 1, Ctrl+C 130; no stack trace unless BULWARK_DEBUG=1.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Run(Func<ParseResult, CancellationToken, Task<int>> body) =>
        async (result, cancellationToken) =>
        {
            try
            {
                return await body(result, cancellationToken);
            }
            catch (JobValidationException ex)
            {
                return Fail(ExitCodes.Usage, ex.Reason, ex);
            }
            catch (CliException ex)
            {
                return Fail(ex.ExitCode, ex.Message, ex);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return Fail(ExitCodes.Interrupted, "Interrupted.", null);
            }
            catch (StoreCorruptException ex)
            {
                return Fail(ExitCodes.Failure, $"The store is damaged: {ex.Message}", ex);
            }
            catch (Exception ex)
            {
                return Fail(ExitCodes.Failure, $"{ex.Message} ({ex.GetType().Name}; set BULWARK_DEBUG=1 for details)", ex);
            }
        };

    /// <summary>Wraps a body that works on a backend: opens it, runs, disposes it.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> WithBackend(
        ConnectionOptions connection,
        Func<ParseResult, IAdminBackend, CancellationToken, Task<int>> body,
        bool createStore = false) =>
        Run(async (result, cancellationToken) =>
        {
            var backend = await connection.Resolve(result).OpenAsync(createStore, cancellationToken);
            await using (backend)
            {
                return await body(result, backend, cancellationToken);
            }
        });

    private static int Fail(int exitCode, string message, Exception? ex)
    {
        Console.Error.WriteLine($"bulwark: {message}");
        if (ex is not null && Environment.GetEnvironmentVariable("BULWARK_DEBUG") is "1" or "true")
        {
            Console.Error.WriteLine(ex.ToString());
        }

        return exitCode;
    }
}
