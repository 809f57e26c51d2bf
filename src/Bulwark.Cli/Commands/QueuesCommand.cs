using System.CommandLine;
using Bulwark.Jobs;
using Bulwark.Server;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark queues</c>: every queue with its job counts per state.</summary>
internal static class QueuesCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var command = connection.AddTo(new Command("queues", "Show every queue with its job counts per state and whether it is paused.") { QueueLimitCommand.Create(), QueuePolicyCommand.Create() });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var queues = await backend.GetQueuesAsync(ct);
            if (connection.WantsJson(r))
            {
                var limits = await backend.GetQueueLimitsAsync(ct);
                var policies = await backend.GetQueuePoliciesAsync(ct);
                CliJson.Print(new { queues = queues.Select(q => BulwarkApiJson.Queue(q, limits.GetValueOrDefault(q.Queue), policies.GetValueOrDefault(q.Queue))).ToArray() });
                return ExitCodes.Success;
            }

            if (queues.Count == 0)
            {
                Console.Out.WriteLine("No queues yet: enqueue a job first.");
                return ExitCodes.Success;
            }

            var table = new TextTable(["QUEUE", "PAUSED", .. JobStates.All.Select(s => s.ToName().ToUpperInvariant())]);
            foreach (var queue in queues.OrderBy(q => q.Queue, StringComparer.Ordinal))
            {
                table.Add([queue.Queue, queue.Paused ? "yes" : "no", .. JobStates.All.Select(s => TextFormat.Number(queue[s]))]);
            }

            table.Print(Console.Out);
            return ExitCodes.Success;
        }));
        return command;
    }
}
