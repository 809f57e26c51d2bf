using System.CommandLine;
using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Server;
using Bulwark.Server.Api;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark recurring list|set|remove</c>: cron definitions kept by the store, enqueued once per tick by maintenance.</summary>
internal static class RecurringCommand
{
    public static Command Create() => new("recurring", "Recurring (cron) jobs: every process running maintenance enqueues each tick exactly once.")
    {
        List(),
        Set(),
        Remove(),
    };

    private static Command List()
    {
        var connection = new ConnectionOptions();
        var command = connection.AddTo(new Command("list", "Show every recurring job with its next and last tick."));
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var jobs = await backend.ListRecurringAsync(ct);
            if (connection.WantsJson(r))
            {
                CliJson.Print(new { recurring = jobs.Select(BulwarkApiJson.Recurring).ToArray() });
                return ExitCodes.Success;
            }

            if (jobs.Count == 0)
            {
                Console.Out.WriteLine("No recurring jobs: define one with 'bulwark recurring set NAME --cron \"0 0 2 * * *\" --queue Q --type T'.");
                return ExitCodes.Success;
            }

            var table = new TextTable(["NAME", "CRON", "TIME ZONE", "QUEUE", "TYPE", "MISFIRE", "NEXT TICK", "LAST TICK", "LAST JOB"]);
            foreach (var job in jobs)
            {
                table.Add([job.Name, job.Cron, job.TimeZone, job.Queue, job.Type, job.Misfire.ToName(),
                    TextFormat.Time(job.NextTick), TextFormat.Time(job.LastTick), job.LastJobId is { } id ? TextFormat.Number(id) : null]);
            }

            table.Print(Console.Out);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Set()
    {
        var connection = new ConnectionOptions();
        var name = new Argument<string>("name") { Description = "Unique name of the recurring job (letters, digits and . _ : -).", HelpName = "NAME" };
        var cron = new Option<string>("--cron") { Description = "Six fields with seconds ('0 0 2 * * *' is 02:00:00 daily), five without, or @hourly/@daily.", Required = true, HelpName = "EXPR" };
        var zone = new Option<string>("--tz") { Description = "IANA time zone the expression is read in (default UTC).", HelpName = "ZONE", DefaultValueFactory = _ => "UTC" };
        var queue = CliValues.QueueOption("The queue each job goes to.", required: true);
        var type = new Option<string>("--type") { Description = "The handler name.", Required = true, HelpName = "TYPE" };
        var payload = new Option<string>("--payload") { Description = "The payload as JSON (default {}).", HelpName = "JSON", DefaultValueFactory = _ => "{}" };
        var misfire = new Option<string>("--misfire") { Description = "Missed ticks after downtime: skip (default) or run-once.", HelpName = "POLICY", DefaultValueFactory = _ => "skip" };
        misfire.AcceptOnlyFromAmong("skip", "run-once", "run_once");
        var maxAttempts = CliValues.Int("--max-attempts", "Attempts for each enqueued job (default 3).", JobDefaults.MaxAttempts, 1, 1000);
        var command = connection.AddTo(new Command("set", "Create or replace a recurring job. An unchanged cron and time zone keep the next tick.")
        {
            name, cron, zone, queue, type, payload, misfire, maxAttempts,
        });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var job = new RecurringJob
            {
                Name = r.GetValue(name)!,
                Cron = r.GetValue(cron)!,
                TimeZone = r.GetValue(zone)!,
                Queue = r.GetValue(queue)!,
                Type = r.GetValue(type)!,
                Payload = r.GetValue(payload)!,
                Misfire = MisfirePolicies.Parse(r.GetValue(misfire)),
                MaxAttempts = r.GetValue(maxAttempts),
            }.Validate();
            var stored = await backend.SetRecurringAsync(job, ct);
            if (connection.WantsJson(r))
            {
                CliJson.Print(BulwarkApiJson.Recurring(stored));
            }
            else
            {
                Console.Out.WriteLine($"Recurring job '{stored.Name}' set: {stored.Cron} ({stored.TimeZone}) → {stored.Queue}/{stored.Type}; next tick {TextFormat.Time(stored.NextTick)}.");
            }

            return ExitCodes.Success;
        }, createStore: true));
        return command;
    }

    private static Command Remove()
    {
        var connection = new ConnectionOptions();
        var name = new Argument<string>("name") { Description = "The recurring job to remove (jobs it enqueued stay).", HelpName = "NAME" };
        var command = connection.AddTo(new Command("remove", "Remove a recurring job.") { name });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var jobName = RecurringJob.ValidateName(r.GetValue(name));
            if (!await backend.RemoveRecurringAsync(jobName, ct))
            {
                throw new CliException(ExitCodes.Failure, $"There is no recurring job '{jobName}'; 'bulwark recurring list' shows them.");
            }

            if (connection.WantsJson(r))
            {
                CliJson.Print(new { name = jobName, removed = true });
            }
            else
            {
                Console.Out.WriteLine($"Recurring job '{jobName}' removed.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
