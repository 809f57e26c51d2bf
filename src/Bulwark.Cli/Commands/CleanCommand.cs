using System.CommandLine;
using Bulwark.Jobs;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark clean --queue Q --state S --older-than 7d</c>: delete old jobs of one queue and state.</summary>
internal static class CleanCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var queue = CliValues.QueueOption("The queue to clean.", required: true);
        var state = CliValues.State("Delete jobs in this state.", required: true);
        var olderThan = CliValues.Duration("--older-than", "Only jobs that finished (or, if waiting, were created) longer ago than this, such as 7d.", required: true);
        var command = connection.AddTo(new Command("clean", "Delete old jobs of one queue in one state (running jobs cannot be deleted).") { queue, state, olderThan });
        command.Validators.Add(r =>
        {
            if (r.GetValue(state) == JobState.Running)
            {
                r.AddError("Running jobs cannot be deleted: cancel them first (bulwark jobs cancel ID), or clean another state.");
            }
        });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var queueName = r.GetValue(queue)!;
            var jobState = r.GetValue(state)!.Value;
            var age = r.GetValue(olderThan)!.Value;
            var deleted = await backend.DeleteJobsAsync(queueName, jobState, age, ct);
            if (connection.WantsJson(r))
            {
                CliJson.Print(new { queue = queueName, state = jobState, olderThan = DurationText.Format(age), deleted });
            }
            else
            {
                Console.Out.WriteLine($"Deleted {deleted} {jobState.ToName()} job(s) of queue '{queueName}' older than {DurationText.Format(age)}.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
