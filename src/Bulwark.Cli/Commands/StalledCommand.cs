using System.CommandLine;
using Bulwark.Jobs;
using Bulwark.Server;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark stalled</c>: running jobs whose lease expired, which the next reclaim pass takes back.</summary>
internal static class StalledCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var limit = CliValues.Limit(100, 1000);
        var command = connection.AddTo(new Command("stalled", "List running jobs whose lease expired (the next maintenance pass reclaims them).") { limit });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var jobs = await backend.ListStalledAsync(r.GetValue(limit), ct);
            if (connection.WantsJson(r))
            {
                CliJson.Print(new { jobs = jobs.Select(j => BulwarkApiJson.Job(j, summary: true)).ToArray() });
                return ExitCodes.Success;
            }

            if (jobs.Count == 0)
            {
                Console.Out.WriteLine("No stalled jobs.");
                return ExitCodes.Success;
            }

            var table = new TextTable("ID", "QUEUE", "TYPE", "ATTEMPT", "WORKER", "LEASE EXPIRED", "STARTED");
            foreach (var job in jobs)
            {
                table.Add(
                    TextFormat.Number(job.Id),
                    job.Queue,
                    TextFormat.Shorten(job.Type, 40),
                    $"{job.Attempt}/{job.MaxAttempts}",
                    job.LeaseOwner,
                    TextFormat.Time(job.LeaseExpiresAt),
                    TextFormat.Time(job.StartedAt));
            }

            table.Print(Console.Out);
            return ExitCodes.Success;
        }));
        return command;
    }
}
