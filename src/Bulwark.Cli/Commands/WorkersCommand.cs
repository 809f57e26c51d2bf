using System.CommandLine;
using Bulwark.Server;
using Bulwark.Storage;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark workers</c>: registered workers, newest heartbeat first.</summary>
internal static class WorkersCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var command = connection.AddTo(new Command("workers", "List registered workers (dead and stopped ones too, until purged)."));
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var workers = await backend.ListWorkersAsync(ct);
            if (connection.WantsJson(r))
            {
                CliJson.Print(new { workers = workers.Select(BulwarkApiJson.Worker).ToArray() });
                return ExitCodes.Success;
            }

            if (workers.Count == 0)
            {
                Console.Out.WriteLine("No workers have registered with this store.");
                return ExitCodes.Success;
            }

            var table = new TextTable("ID", "NAME", "HOST", "PID", "STATE", "QUEUES", "JOBS", "MEMORY", "HEARTBEAT");
            foreach (var worker in workers)
            {
                var w = worker.Registration;
                table.Add(
                    w.Id,
                    w.Name,
                    w.Host,
                    TextFormat.Number(w.ProcessId),
                    Name(worker.State),
                    string.Join(",", w.Queues),
                    $"{w.ActiveJobs}/{w.Concurrency}",
                    $"{w.MemoryBytes / (1024 * 1024)} MiB",
                    TextFormat.Time(worker.HeartbeatAt));
            }

            table.Print(Console.Out);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static string Name(WorkerState state) => state.ToString().ToLowerInvariant();
}
