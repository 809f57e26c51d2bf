using Bulwark.Diagnostics;
using Bulwark.Hosting;
using Bulwark.Maintenance;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Cli.Worker;

/// <summary>Builds the generic host of <c>bulwark worker</c>: the store (SQLite or PostgreSQL), the demo handlers, a worker and maintenance.</summary>
internal static class WorkerHost
{
    public static IHost Build(WorkerHostSettings settings)
    {
        // No args: the generic host must not read our flags as configuration keys.
        var builder = Host.CreateApplicationBuilder(CliHostArgs.Value);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);

        if (settings.ClockOffset is { } offset)
        {
            // Before AddBulwark, which only adds the system clock when none is registered.
            builder.Services.AddSingleton<TimeProvider>(new OffsetTimeProvider(TimeProvider.System, offset));
        }

        WorkerOptions? worker = null;
        // A skewed worker on SQLite still shares the machine's clock with every other process on that file: the store judges
        // leases by the true clock, as PostgreSQL judges them by the database's. Only the worker's own clock is shifted.
        builder.Services.AddBulwark(o => StoreSelection.Use(o, settings.StorePath, settings.ClockOffset is null ? null : TimeProvider.System))
            .AddDemoHandlers()
            .AddWorker(w =>
            {
                worker = w.Options;
                w.Queues([.. settings.Queues]).Concurrency(settings.Concurrency);
                foreach (var (queue, weight) in settings.Weights)
                {
                    w.Weight(queue, weight);
                }
                if (settings.Name is { } name)
                {
                    w.Name(name);
                }

                w.Options.LeaseDuration = settings.Lease ?? w.Options.LeaseDuration;
                w.Options.HeartbeatInterval = settings.Heartbeat ?? w.Options.HeartbeatInterval;
                w.Options.ShutdownTimeout = settings.ShutdownTimeout ?? w.Options.ShutdownTimeout;
                w.Options.PollInterval = settings.Poll ?? w.Options.PollInterval;
                w.Options.AbandonGracePeriod = settings.AbandonGrace ?? w.Options.AbandonGracePeriod;
                if (settings.MemoryLimitMegabytes is { } mb)
                {
                    w.MemoryLimitMegabytes(mb);
                }
            })
            .AddMaintenance(m =>
            {
                m.WorkerDeadAfter = settings.DeadAfter ?? settings.Lease ?? m.WorkerDeadAfter;
                m.Interval = settings.Poll is { } poll && poll < m.Interval ? poll : m.Interval;
            });

        if (settings.HealthUrls.Count > 0)
        {
            builder.Services.AddHostedService(sp => new Serve.ProbeServer(sp, settings.HealthUrls));
        }

        var problems = worker!.Validate();
        if (problems.Count > 0)
        {
            throw new WorkerOptionsException(string.Join(" ", problems)) { Problems = problems };
        }

        // AddWorker raises the host's shutdown timeout to cover the drain.
        return builder.Build();
    }
}
