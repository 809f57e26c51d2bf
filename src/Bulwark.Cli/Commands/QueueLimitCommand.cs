using System.CommandLine;
using System.Globalization;
using Bulwark.Cli.Admin;
using Bulwark.Jobs;
using Bulwark.Server;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark queues limit QUEUE --rate N --concurrency N | --clear</c>: fleet-wide caps kept by the store.</summary>
internal static class QueueLimitCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var queue = CliValues.QueueArgument();
        var rate = new Option<double?>("--rate")
        {
            Description = "Most jobs started per second across all workers (fractions allowed: 0.5 is one every 2 s).",
            HelpName = "N",
            CustomParser = r =>
            {
                var text = r.Tokens[0].Value;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
                {
                    return value;
                }

                r.AddError($"--rate must be a number of jobs per second, such as 5 or 0.5 (got '{text}').");
                return null;
            },
        };
        var concurrency = new Option<int?>("--concurrency")
        {
            Description = "Most jobs of the queue running at once across all workers.",
            HelpName = "N",
            CustomParser = r =>
            {
                var text = r.Tokens[0].Value;
                if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
                {
                    return value;
                }

                r.AddError($"--concurrency must be a whole number of running jobs, such as 2 (got '{text}').");
                return null;
            },
        };
        var clear = new Option<bool>("--clear") { Description = "Remove both limits." };
        var command = connection.AddTo(new Command("limit", "Set a queue's rate and concurrency limits (a limit not given is kept), or --clear them.")
        {
            queue, rate, concurrency, clear,
        });
        command.SetAction(CliAction.Run(async (r, ct) =>
        {
            var name = r.GetValue(queue)!;
            var change = new QueueLimitChange(r.GetValue(rate), r.GetValue(concurrency), r.GetValue(clear));
            if (change.Clear && (change.Rate is not null || change.Concurrency is not null))
            {
                throw new JobValidationException("limits", "Give --clear alone, or --rate and/or --concurrency; not both.");
            }

            if (!change.Clear && change.Rate is null && change.Concurrency is null)
            {
                throw new JobValidationException("limits", $"Say what to change: --rate N (jobs per second), --concurrency N (running at once), or --clear. Example: bulwark queues limit {name} --rate 5 --concurrency 2.");
            }

            // Range checks before anything is opened (the same rules the store and the server apply).
            new Scheduling.QueueLimits { RatePerSecond = change.Rate, MaxRunning = change.Concurrency }.Validate();
            var backend = await connection.Resolve(r).OpenAsync(createStore: true, ct);
            await using (backend)
            {
                var limits = await backend.ChangeQueueLimitsAsync(name, change, ct);
                if (connection.WantsJson(r))
                {
                    CliJson.Print(BulwarkApiJson.QueueLimits(name, limits));
                }
                else
                {
                    var rateText = limits.RatePerSecond is { } n ? $"{n.ToString(CultureInfo.InvariantCulture)} jobs/s" : "none";
                    var concurrencyText = limits.MaxRunning is { } m ? $"{m} running" : "none";
                    Console.Out.WriteLine($"Queue '{name}' limits: rate {rateText}, concurrency {concurrencyText}.");
                }

                return ExitCodes.Success;
            }
        }));
        return command;
    }
}
