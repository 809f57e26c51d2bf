using System.CommandLine;
using Bulwark.Jobs;
using Bulwark.Server;
using Bulwark.Storage;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark dlq list|retry-all QUEUE</c>: triage a queue's dead letters.</summary>
internal static class DlqCommand
{
    public static Command Create() => new("dlq", "Inspect and retry a queue's dead letters.")
    {
        List(),
        RetryAll(),
    };

    private static Command List()
    {
        var connection = new ConnectionOptions();
        var queue = CliValues.QueueArgument();
        var limit = CliValues.Limit(50, JobListQuery.MaxLimit);
        var cursor = CliValues.Cursor();
        var command = connection.AddTo(new Command("list", "List the dead letters of a queue, newest first, with their last error.") { queue, limit, cursor });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var page = await backend.ListJobsAsync(new JobListQuery(r.GetValue(queue), JobState.DeadLetter, r.GetValue(cursor), r.GetValue(limit)), ct);
            if (connection.WantsJson(r))
            {
                CliJson.Print(BulwarkApiJson.JobPage(page));
                return ExitCodes.Success;
            }

            JobsCommand.PrintJobs(page.Items);
            JobsCommand.PrintCursor(page.NextCursor);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command RetryAll()
    {
        var connection = new ConnectionOptions();
        var queue = CliValues.QueueArgument();
        var command = connection.AddTo(new Command("retry-all", "Move every dead letter of a queue back to ready, attempts reset.") { queue });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var name = r.GetValue(queue)!;
            var retried = await backend.RetryDeadLettersAsync(name, ct);
            if (connection.WantsJson(r))
            {
                CliJson.Print(new { queue = name, retried });
            }
            else
            {
                Console.Out.WriteLine($"{retried} dead letter(s) of queue '{name}' retried (ready, or pending behind a dependency retried with them).");
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
