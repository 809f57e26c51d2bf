using System.CommandLine;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark pause QUEUE</c> and <c>bulwark resume QUEUE</c>.</summary>
internal static class PauseCommand
{
    public static Command Create() => Build("pause", paused: true, "Pause a queue: workers stop leasing its jobs (running ones finish).");

    public static Command CreateResume() => Build("resume", paused: false, "Resume a paused queue.");

    private static Command Build(string name, bool paused, string description)
    {
        var connection = new ConnectionOptions();
        var queue = CliValues.QueueArgument();
        var command = connection.AddTo(new Command(name, description) { queue });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var queueName = r.GetValue(queue)!;
            await backend.SetQueuePausedAsync(queueName, paused, ct);
            if (connection.WantsJson(r))
            {
                CliJson.Print(new { queue = queueName, paused });
            }
            else
            {
                Console.Out.WriteLine($"Queue '{queueName}' {(paused ? "paused" : "resumed")}.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
