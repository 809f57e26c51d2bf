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

        if (settings.HealthUrls.Count > 0)
        {
            // Registered before the worker's hosted service, so the host stops it after the drain: the probe answers
            // 503 "draining" while running jobs finish, instead of refusing connections.
            builder.Services.AddHostedService(sp => new Serve.ProbeServer(sp, settings.HealthUrls));
        }

        WorkerOptions? worker = null;
        // A skewed worker on SQLite still shares the machine's clock with every other process on that file: the store judges
        // leases by the true clock, as PostgreSQL judges them by the database's. Only the worker's own clock is shifted.
        // One configuration for every host: the Bulwark:* sections of appsettings.json, then Bulwark__* environment
        // variables (both read by the host builder), then the flags given, which win (docs/configuration.md).
        var configuration = builder.Configuration;
        builder.Services.AddBulwark(configuration, o => StoreSelection.Use(o, settings.StorePath, settings.ClockOffset is null ? null : TimeProvider.System))
            .AddDemoHandlers()
            .AddWorker(configuration, w =>
            {
                worker = w.Options;
                if (settings.Queues is { } queues)
                {
                    w.Queues([.. queues]);
                }

                if (settings.Concurrency is { } concurrency)
                {
                    w.Concurrency(concurrency);
                }

                if (settings.LeaseAhead is { } ahead)
                {
                    w.LeaseAhead(ahead);
                }

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
            .AddMaintenance(configuration, m =>
            {
                // --lease alone also sets the dead-worker limit (a worker is dead once its lease could have lapsed).
                m.WorkerDeadAfter = settings.DeadAfter ?? (configuration["Bulwark:Maintenance:WorkerDeadAfter"] is null ? settings.Lease : null) ?? m.WorkerDeadAfter;
                m.Interval = settings.Poll is { } poll && poll < m.Interval ? poll : m.Interval;
            });

        // AddWorker ran its configure action at once, so the options were captured.
        var options = worker!;
        ThrowIfUnusable(options);

        // AddWorker raises the host's shutdown timeout to cover the drain.
        return builder.Build();
    }

    /// <summary>
    /// Refuses unusable worker options before the host is built, so the user reads one line saying what to change
    /// instead of the host's start-up failure with a stack trace.
    /// </summary>
    internal static void ThrowIfUnusable(WorkerOptions worker)
    {
        var problems = worker.Validate();
        if (problems.Count > 0)
        {
            throw new WorkerOptionsException(string.Join(" ", problems)) { Problems = problems };
        }
    }
}
