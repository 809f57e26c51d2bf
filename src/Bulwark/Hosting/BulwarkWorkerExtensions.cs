using Bulwark.Client;
using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Maintenance;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bulwark.Hosting;

/// <summary>Handlers, the worker and maintenance on a <see cref="BulwarkBuilder"/>.</summary>
public static class BulwarkWorkerExtensions
{
    /// <summary>Registers <typeparamref name="THandler"/> (resolved from a fresh scope per job) for jobs of <paramref name="type"/>.</summary>
    public static BulwarkBuilder AddHandler<THandler, TPayload>(this BulwarkBuilder builder, string type)
        where THandler : class, IJobHandler<TPayload>
    {
        ArgumentNullException.ThrowIfNull(builder);
        Register(builder, type, typeof(TPayload), (sp, payload, context) => sp.GetRequiredService<THandler>().HandleAsync((TPayload)payload, context));
        builder.Services.TryAddScoped<THandler>();
        return builder;
    }

    /// <summary>Registers a delegate handler returning a result (stored as JSON) for jobs of <paramref name="type"/>.</summary>
    public static BulwarkBuilder AddHandler<TPayload>(this BulwarkBuilder builder, string type, Func<TPayload, JobContext, Task<object?>> handler)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(handler);
        Register(builder, type, typeof(TPayload), (_, payload, context) => handler((TPayload)payload, context));
        return builder;
    }

    /// <summary>Registers a delegate handler without a result for jobs of <paramref name="type"/>.</summary>
    public static BulwarkBuilder AddHandler<TPayload>(this BulwarkBuilder builder, string type, Func<TPayload, JobContext, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(handler);
        Register(builder, type, typeof(TPayload), async (_, payload, context) =>
        {
            await handler((TPayload)payload, context);
            return null;
        });
        return builder;
    }

    /// <summary>
    /// Runs a worker in this host (an <see cref="IHostedService"/>) and the maintenance passes. Options are checked at
    /// start-up. The host's shutdown timeout should exceed the worker's (the CLI sets it).
    /// </summary>
    public static BulwarkBuilder AddWorker(this BulwarkBuilder builder, Action<WorkerBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(WorkerRuntime)))
        {
            throw new InvalidOperationException("AddWorker was called twice; a host runs one worker. Give it every queue it should serve in one call.");
        }

        var options = new WorkerOptions();
        configure?.Invoke(new WorkerBuilder(options));
        services.AddSingleton(options);
        services.TryAddSingleton(sp => new HandlerRegistry(sp.GetServices<HandlerRegistration>()));
        services.AddSingleton(sp => new WorkerRuntime(
            sp.GetRequiredService<IJobStore>(),
            sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetRequiredService<HandlerRegistry>(),
            options,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<BulwarkMetrics>(),
            sp.GetService<IOptions<JobClientOptions>>()?.Value.SerializerOptions ?? new JobClientOptions().SerializerOptions,
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        services.AddSingleton<ICircuitBreakers>(sp => sp.GetRequiredService<WorkerRuntime>().Circuits);
        services.AddSingleton<IHostedService>(sp => new WorkerService(
            sp.GetRequiredService<WorkerRuntime>(),
            sp.GetRequiredService<JobSignal>(),
            sp.GetRequiredService<TimeProvider>()));
        return builder.AddMaintenance();
    }

    /// <summary>Runs the maintenance passes (promote, reclaim, expire, purge) in this host. Safe on many processes at once; added once.</summary>
    public static BulwarkBuilder AddMaintenance(this BulwarkBuilder builder, Action<MaintenanceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(MaintenanceOptions))?.ImplementationInstance as MaintenanceOptions;
        if (existing is not null)
        {
            configure?.Invoke(existing);
            return builder;
        }

        var options = new MaintenanceOptions();
        configure?.Invoke(options);
        services.AddSingleton(options);
        services.AddSingleton(sp => new MaintenanceService(
            sp.GetRequiredService<IJobStore>(),
            options,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<BulwarkMetrics>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger<MaintenanceService>() ?? NullLogger<MaintenanceService>.Instance,
            RecurringSchedulerFor(sp),
            // The query lets a pass wake at the moment a silent worker may be declared dead; the signal wakes this host's
            // workers as soon as a pass makes jobs ready (reclaimed or promoted), not at their next poll.
            sp.GetService<IJobQuery>(),
            sp.GetService<JobSignal>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<MaintenanceService>());
        return builder;
    }

    /// <summary>
    /// The scheduler maintenance runs each pass, so that cron definitions stored through the API fire under <c>bulwark serve</c>.
    /// None when <c>AddRecurring</c>/<c>AddRecurringScheduler</c> registered their own loop (one runner per process is enough;
    /// a second would only lose the guarded claims), or when the store keeps no recurring jobs.
    /// </summary>
    private static RecurringScheduler? RecurringSchedulerFor(IServiceProvider sp)
    {
        if (sp.GetService<RecurringSchedulerOptions>() is not null)
        {
            return null;
        }

        // IJobStore may be wrapped (storage circuit); the registered IJobQuery is the concrete store.
        return sp.GetService<IJobQuery>() is IRecurringJobStore store
            ? new RecurringScheduler(store, sp.GetRequiredService<TimeProvider>(), logger: sp.GetService<ILoggerFactory>()?.CreateLogger<RecurringScheduler>())
            : null;
    }

    private static void Register(BulwarkBuilder builder, string type, Type payloadType, Func<IServiceProvider, object, JobContext, Task<object?>> invoke)
    {
        JobValidator.ValidateType(type);
        if (builder.Services.Any(d => d.ServiceType == typeof(HandlerRegistration) && d.ImplementationInstance is HandlerRegistration r && r.Type == type))
        {
            throw new InvalidOperationException($"A handler for job type '{type}' is already registered; each job type has exactly one handler.");
        }

        builder.Services.AddSingleton(new HandlerRegistration(type, payloadType, invoke));
    }
}
