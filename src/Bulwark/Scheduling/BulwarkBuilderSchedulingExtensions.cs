using System.Text.Json;
using Bulwark.Hosting;
using Bulwark.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Scheduling;

/// <summary>Declares recurring jobs in code: <c>builder.AddRecurring("nightly-report", "0 0 2 * * *", "reports", "report.build")</c>.</summary>
public static class BulwarkBuilderSchedulingExtensions
{
    /// <summary>
    /// Declares a recurring job (validated now) and runs the scheduler in this host. Every process may declare the same
    /// jobs: each tick is enqueued once across the fleet, and re-declaring an unchanged schedule keeps its next tick.
    /// </summary>
    /// <param name="builder">The Bulwark builder.</param>
    /// <param name="name">Unique name of the recurring job.</param>
    /// <param name="cron">Six fields with seconds (<c>0 0 2 * * *</c>), five without, or a macro such as <c>@hourly</c>.</param>
    /// <param name="queue">The queue of each job.</param>
    /// <param name="type">The handler name.</param>
    /// <param name="payload">The payload object, serialized with web defaults (camelCase).</param>
    /// <param name="configure">Sets the other fields: <c>r =&gt; r with { TimeZone = "Europe/Paris", Misfire = MisfirePolicy.RunOnce }</c>.</param>
    public static BulwarkBuilder AddRecurring(this BulwarkBuilder builder, string name, string cron, string queue, string type, object? payload = null, Func<RecurringJob, RecurringJob>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var job = new RecurringJob { Name = name, Cron = cron, Queue = queue, Type = type, Payload = JsonSerializer.Serialize(payload, JsonSerializerOptions.Web) };
        job = (configure?.Invoke(job) ?? job).Validate();
        var options = AddScheduler(builder);
        if (options.Definitions.Any(d => d.Name == job.Name))
        {
            throw new ArgumentException($"A recurring job named '{job.Name}' is already declared; give each one a unique name.", nameof(name));
        }

        options.Definitions.Add(job);
        return builder;
    }

    /// <summary>Runs the recurring scheduler in this host (no code-declared jobs needed: definitions may come from the API).</summary>
    public static BulwarkBuilder AddRecurringScheduler(this BulwarkBuilder builder, Action<RecurringSchedulerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        configure?.Invoke(AddScheduler(builder));
        return builder;
    }

    private static RecurringSchedulerOptions AddScheduler(BulwarkBuilder builder)
    {
        var existing = builder.Services.FirstOrDefault(d => d.ServiceType == typeof(RecurringSchedulerOptions))?.ImplementationInstance;
        if (existing is RecurringSchedulerOptions options)
        {
            return options;
        }

        options = new RecurringSchedulerOptions();
        builder.Services.AddSingleton(options);
        builder.Services.TryAddSingleton(TimeProvider.System);
        // Recurring jobs are part of the store contract: through IJobStore they pass the storage circuit like every write.
        builder.Services.TryAddSingleton<IRecurringJobStore>(sp => sp.GetRequiredService<IJobStore>());
        builder.Services.TryAddSingleton(sp => new RecurringScheduler(
            sp.GetRequiredService<IRecurringJobStore>(), sp.GetRequiredService<TimeProvider>(), options, sp.GetService<ILogger<RecurringScheduler>>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RecurringSchedulerService>());
        return options;
    }
}
