using System.Reflection;
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
    // Time the host allows after the drain and the abandon grace period, to release unfinished jobs and stop.
    private static readonly TimeSpan DrainMargin = TimeSpan.FromSeconds(10);

    /// <summary>Registers <typeparamref name="THandler"/> (resolved from a fresh scope per job) for jobs of <paramref name="type"/>.</summary>
    public static BulwarkBuilder AddHandler<THandler, TPayload>(this BulwarkBuilder builder, string type)
        where THandler : class, IJobHandler<TPayload>
    {
        ArgumentNullException.ThrowIfNull(builder);
        Register(builder, type, typeof(TPayload), Invoker<THandler, TPayload>(), typeof(THandler).GetCustomAttribute<JobTypeAttribute>()?.Queue);
        builder.Services.TryAddScoped<THandler>();
        return builder;
    }

    /// <summary>
    /// Registers <typeparamref name="THandler"/> (resolved from a fresh scope per job) under the job type and default queue
    /// its <see cref="JobTypeAttribute"/> declares; its payload type is that of the <see cref="IJobHandler{TPayload}"/> it
    /// implements. <c>IJobClient.EnqueueAsync(payload)</c> then finds type and queue from the payload alone.
    /// </summary>
    public static BulwarkBuilder AddHandler<THandler>(this BulwarkBuilder builder)
        where THandler : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        var handler = typeof(THandler);
        var contracts = handler.GetInterfaces().Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IJobHandler<>)).ToArray();
        if (contracts.Length != 1)
        {
            throw new InvalidOperationException(contracts.Length == 0
                ? $"{handler.Name} does not implement IJobHandler<TPayload>, so AddHandler<{handler.Name}>() cannot run it; implement IJobHandler<YourPayload>."
                : $"{handler.Name} implements IJobHandler<> for {contracts.Length} payload types; register each with AddHandler<{handler.Name}, TPayload>(\"type\").");
        }

        var payload = contracts[0].GetGenericArguments()[0];
        var declared = handler.GetCustomAttribute<JobTypeAttribute>() ?? payload.GetCustomAttribute<JobTypeAttribute>()
            ?? throw new InvalidOperationException(
                $"{handler.Name} declares no job type: put [JobType(\"…\", Queue = \"…\")] on the class, or register it with AddHandler<{handler.Name}, {payload.Name}>(\"type\").");
        if (declared.Queue is not null)
        {
            JobValidator.ValidateQueue(declared.Queue);
        }

        var invoke = (Func<IServiceProvider, object, JobContext, Task<object?>>)typeof(BulwarkWorkerExtensions)
            .GetMethod(nameof(Invoker), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(handler, payload)
            .Invoke(null, null)!;
        Register(builder, declared.Type, payload, invoke, declared.Queue);
        builder.Services.TryAddScoped<THandler>();
        return builder;
    }

    /// <summary>
    /// Registers a delegate handler for jobs of <paramref name="type"/> that gets <typeparamref name="TService"/> from the
    /// job's own DI scope (a fresh scope per job, as for handler classes).
    /// </summary>
    public static BulwarkBuilder AddHandler<TPayload, TService>(this BulwarkBuilder builder, string type, Func<TPayload, TService, JobContext, Task> handler)
        where TService : notnull
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(handler);
        Register(builder, type, typeof(TPayload), async (sp, payload, context) =>
        {
            await handler((TPayload)payload, sp.GetRequiredService<TService>(), context);
            return null;
        });
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
    /// start-up. Raises <see cref="HostOptions.ShutdownTimeout"/> (never lowers it) to cover the drain: the worker's
    /// shutdown timeout, then its abandon grace period, then 10 s to release what is left.
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
        // PostConfigure reads the options when the host starts, so later changes (configuration binding) count too.
        // The default host timeout (30 s) would otherwise cut a 30 s drain short and lose the releases of unfinished jobs.
        services.PostConfigure<HostOptions>(host =>
        {
            var drain = options.ShutdownTimeout + options.AbandonGracePeriod + DrainMargin;
            if (host.ShutdownTimeout < drain)
            {
                host.ShutdownTimeout = drain;
            }
        });
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

        // Recurring jobs are part of the store contract, reached through IJobStore (and its storage circuit).
        return sp.GetService<IJobStore>() is { } store
            ? new RecurringScheduler(store, sp.GetRequiredService<TimeProvider>(), logger: sp.GetService<ILoggerFactory>()?.CreateLogger<RecurringScheduler>())
            : null;
    }

    private static Func<IServiceProvider, object, JobContext, Task<object?>> Invoker<THandler, TPayload>()
        where THandler : class, IJobHandler<TPayload> =>
        (sp, payload, context) => sp.GetRequiredService<THandler>().HandleAsync((TPayload)payload, context);

    private static void Register(BulwarkBuilder builder, string type, Type payloadType, Func<IServiceProvider, object, JobContext, Task<object?>> invoke, string? defaultQueue = null)
    {
        JobValidator.ValidateType(type);
        if (builder.Services.Any(d => d.ServiceType == typeof(HandlerRegistration) && d.ImplementationInstance is HandlerRegistration r && r.Type == type))
        {
            throw new InvalidOperationException($"A handler for job type '{type}' is already registered; each job type has exactly one handler.");
        }

        builder.Services.AddSingleton(new HandlerRegistration(type, payloadType, invoke, defaultQueue));
    }
}
