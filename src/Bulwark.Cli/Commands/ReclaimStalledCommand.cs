using System.CommandLine;

namespace Bulwark.Cli.Commands;

/// <summary>
/// <c>bulwark reclaim-stalled</c>: runs the reclaim step of maintenance now — jobs whose lease expired go back to ready
/// (or to dead letter as poison, or cancelled when asked), and workers silent past the dead-worker limit are declared dead.
/// </summary>
internal static class ReclaimStalledCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var command = connection.AddTo(new Command("reclaim-stalled", "Reclaim stalled jobs and declare silent workers dead now, instead of at the next maintenance pass."));
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var result = await backend.ReclaimStalledAsync(ct);
            if (connection.WantsJson(r))
            {
                // The API's field names (POST /maintenance/reclaim-stalled).
                CliJson.Print(new { reclaimed = result.Reclaimed, poisoned = result.Poisoned, cancelled = result.Cancelled, dead_workers = result.DeadWorkers, total = result.Total });
                return ExitCodes.Success;
            }

            Console.Out.WriteLine(result.Total == 0 && result.DeadWorkers.Count == 0
                ? "Nothing to reclaim: no lease has expired and no worker is silent past the dead-worker limit."
                : $"Reclaimed {result.Reclaimed.Count} job(s) to ready [{string.Join(',', result.Reclaimed)}], quarantined {result.Poisoned.Count} as poison [{string.Join(',', result.Poisoned)}], cancelled {result.Cancelled.Count}; dead workers: {(result.DeadWorkers.Count == 0 ? "none" : string.Join(", ", result.DeadWorkers))}.");
            return ExitCodes.Success;
        }));
        return command;
    }
}
