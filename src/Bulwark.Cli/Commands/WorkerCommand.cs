using System.CommandLine;
using Bulwark.Cli.Worker;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bulwark.Cli.Commands;

/// <summary>
/// <c>bulwark worker --store PATH --queues a,b --concurrency N --name NAME</c>: runs the demo handlers on a SQLite store
/// until SIGTERM/SIGINT, then drains gracefully and exits 0.
/// </summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var store = HostedCommand.StoreOption();
        var queues = HostedCommand.QueuesOption("Queues to serve, comma-separated, in order of preference (default 'default').");
        var weights = new Option<Dictionary<string, int>>("--weights")
        {
            Description = "Serve queues by weighted random draw instead of list order, such as email=3,default=1.",
            HelpName = "Q=N,…",
            CustomParser = r =>
            {
                var result = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var part in r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
                {
                    var eq = part.LastIndexOf('=');
                    if (eq <= 0 || !int.TryParse(part[(eq + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var weight) || weight < 1)
                    {
                        r.AddError($"--weights entry '{part}' is not QUEUE=N with N a whole number of at least 1, such as email=3.");
                        continue;
                    }

                    result[part[..eq]] = weight;
                }

                return result;
            },
        };
        var concurrency = CliValues.OptionalInt("--concurrency", "Jobs run at once (default Bulwark:Worker:Concurrency, else 10).", 1, 10_000);
        var leaseAhead = CliValues.OptionalInt("--lease-ahead", "Jobs leased beyond the free slots and held until one frees, so lease calls and finish batches carry more (default Bulwark:Worker:LeaseAhead, else 200; 0 turns it off).", 0, 10_000);
        var name = HostedCommand.NameOption();
        var lease = CliValues.Duration("--lease", "Lease length (default 10s).");
        var heartbeat = CliValues.Duration("--heartbeat", "Heartbeat interval (default 2s); must be shorter than the lease.");
        var shutdown = CliValues.Duration("--shutdown-timeout", "How long a drain waits for running jobs before releasing them (default 30s).");
        var poll = CliValues.Duration("--poll", "Poll interval for new work (default 250ms).");
        var deadAfter = CliValues.Duration("--dead-after", "Declare workers silent this long dead and reclaim their jobs (default: the lease).");
        var grace = CliValues.Duration("--abandon-grace", "How long a handler may ignore its cancelled token before it is abandoned (default 5s).");
        var healthUrls = new Option<string?>("--health-urls") { Description = "Serve /health/live, /health/ready and /metrics here, ';'-separated (e.g. http://0.0.0.0:9100).", HelpName = "URLS" };
        var clockOffset = ClockOffsetOption.Create();
        var memory = new Option<long?>("--memory-limit-mb") { Description = "Soft memory limit; above it the worker stops leasing until back under.", HelpName = "MB" };

        var command = new Command("worker", "Run a worker with the demo handlers (demo.noop, demo.sleep, demo.fail, demo.append, …) until SIGTERM/SIGINT, then drain.")
        {
            store, queues, weights, concurrency, leaseAhead, name, lease, heartbeat, shutdown, poll, deadAfter, grace, memory, healthUrls, clockOffset,
        };

        // Synchronous on purpose: System.CommandLine's async actions force exit 143 two seconds after SIGTERM, which
        // would cut the drain short. Here the generic host alone owns SIGTERM/SIGINT and waits for the drain.
        command.SetAction(r => Run(new WorkerHostSettings
        {
            StorePath = HostedCommand.StorePath(r.GetValue(store)),
            Queues = HostedCommand.Queues(r.GetValue(queues)),
            Concurrency = r.GetValue(concurrency),
            LeaseAhead = r.GetValue(leaseAhead),
            Weights = r.GetValue(weights) ?? [],
            Name = r.GetValue(name),
            Lease = r.GetValue(lease),
            Heartbeat = r.GetValue(heartbeat),
            ShutdownTimeout = r.GetValue(shutdown),
            Poll = r.GetValue(poll),
            DeadAfter = r.GetValue(deadAfter),
            AbandonGrace = r.GetValue(grace),
            MemoryLimitMegabytes = r.GetValue(memory),
            ClockOffset = r.GetValue(clockOffset),
            HealthUrls = r.GetValue(healthUrls)?.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [],
        }));
        return command;
    }

    private static int Run(WorkerHostSettings settings) => HostedCommand.Run(
        () =>
        {
            StoreSelection.Validate(settings.StorePath);
            using var host = WorkerHost.Build(settings);
            HostedCommand.ValidateConfiguration(host.Services);
            var runtime = host.Services.GetRequiredService<WorkerRuntime>();
            var options = host.Services.GetRequiredService<WorkerOptions>();
            var queues = options.Queues.Count > 0 ? string.Join(',', options.Queues) : "default";
            Console.WriteLine($"bulwark worker {runtime.Name} ({runtime.Id}): store {StoreSelection.Describe(settings.StorePath)}, queues {queues}, concurrency {options.Concurrency}, lease {DurationText.Format(options.LeaseDuration)}. SIGTERM or Ctrl+C drains and exits.");
            host.RunAsync().GetAwaiter().GetResult();
            Console.WriteLine($"bulwark worker {runtime.Name}: drained and stopped.");
            return ExitCodes.Success;
        },
        ex => HostedCommand.ConfigurationProblem(ex) is { } problem ? (ExitCodes.Usage, problem) : (ExitCodes.Failure, $"{ex.Message} ({ex.GetType().Name})"));
}
