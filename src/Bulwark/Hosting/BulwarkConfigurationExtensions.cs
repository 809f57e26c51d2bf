using Bulwark.Client;
using Bulwark.Maintenance;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bulwark.Hosting;

/// <summary>
/// Bulwark configured from <see cref="IConfiguration"/> (appsettings.json, environment variables such as
/// <c>Bulwark__Worker__Concurrency=20</c>, command line): <c>Bulwark:Client</c>, <c>Bulwark:Worker</c>,
/// <c>Bulwark:Maintenance</c>, <c>Bulwark:StorageCircuit</c> and <c>Bulwark:Queues</c>. Values are checked when the host starts
/// (<c>ValidateOnStart</c>): a malformed value, an unknown key or an unusable setting stops the start with a message
/// naming the key and what to change. Code given as <c>configure</c> runs after the configuration, so it wins.
/// </summary>
public static class BulwarkConfigurationExtensions
{
    /// <summary>The root section: <c>Bulwark</c>.</summary>
    public const string Section = "Bulwark";

    /// <summary>
    /// <c>AddBulwark</c> with <c>Bulwark:Client</c> (<see cref="JobClientOptions.MaxPayloadBytes"/>) and the queues' defaults
    /// <c>Bulwark:Queues:&lt;queue&gt;:MaxAttempts|Backoff|Timeout|Retention</c> (<see cref="JobClientOptions.Queues"/>) read from <paramref name="configuration"/>.
    /// </summary>
    public static BulwarkBuilder AddBulwark(this IServiceCollection services, IConfiguration configuration, Action<BulwarkBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = services.AddBulwark(configure);
        var section = configuration.GetSection($"{Section}:Client");
        var probe = new JobClientOptions();
        var errors = OptionsSectionReader.Apply(section, probe, nameof(JobClientOptions.SerializerOptions), nameof(JobClientOptions.Queues)).ToList();
        // Bulwark:Queues (not Bulwark:Client:Queues): the queues' defaults are the deployment's, read by the client and maintenance.
        var queues = QueuePolicySection.Read(configuration, errors);
        services.AddOptions<JobClientOptions>()
            .Configure(o =>
            {
                OptionsSectionReader.Apply(section, o, nameof(JobClientOptions.SerializerOptions), nameof(JobClientOptions.Queues));
                foreach (var (queue, policy) in queues)
                {
                    o.Queues[queue] = policy;
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<JobClientOptions>>(new SectionOptionsValidator<JobClientOptions>(section.Path, errors, o =>
            o.MaxPayloadBytes >= 1 ? [] : [$"MaxPayloadBytes must be at least 1 (got {o.MaxPayloadBytes})."]));
        return builder;
    }

    /// <summary>
    /// <c>AddWorker</c> with <see cref="WorkerOptions"/> read from <c>Bulwark:Worker</c> (for example <c>Queues</c>,
    /// <c>Concurrency</c>, <c>LeaseDuration</c>, <c>ShutdownTimeout</c>), then <paramref name="configure"/>.
    /// </summary>
    public static BulwarkBuilder AddWorker(this BulwarkBuilder builder, IConfiguration configuration, Action<WorkerBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection($"{Section}:Worker");
        builder.AddMaintenance(configuration);
        IReadOnlyList<string> errors = [];
        builder.AddWorker(w =>
        {
            errors = OptionsSectionReader.Apply(section, w.Options);
            configure?.Invoke(w);
        });
        // The worker runs on the instance built above; IOptions<WorkerOptions> is the same settings, so that
        // ValidateOnStart reports every problem before any hosted service starts.
        builder.Services.AddOptions<WorkerOptions>()
            .Configure(o =>
            {
                OptionsSectionReader.Apply(section, o);
                configure?.Invoke(new WorkerBuilder(o));
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WorkerOptions>>(new SectionOptionsValidator<WorkerOptions>(section.Path, errors, o => o.Validate()));
        AddStartupGate(builder.Services);
        return builder;
    }

    /// <summary><c>AddMaintenance</c> with <see cref="MaintenanceOptions"/> read from <c>Bulwark:Maintenance</c> (<c>Retention:Completed</c> and the like included).</summary>
    public static BulwarkBuilder AddMaintenance(this BulwarkBuilder builder, IConfiguration configuration, Action<MaintenanceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection($"{Section}:Maintenance");
        if (builder.Services.Any(d => d.ImplementationInstance is SectionOptionsValidator<MaintenanceOptions>))
        {
            // Already read (AddWorker(configuration) reads it too); only the code part is new.
            return configure is null ? builder : builder.AddMaintenance(configure);
        }

        var errors = new List<string>();
        void Apply(MaintenanceOptions o, List<string>? sink)
        {
            var found = OptionsSectionReader.Apply(section, o, nameof(MaintenanceOptions.Retention));
            o.Retention = ReadRetention(section.GetSection(nameof(MaintenanceOptions.Retention)), o.Retention, sink);
            // Bulwark:Queues:<queue>:Retention (its errors are reported by AddBulwark(configuration), which reads the whole section).
            var retained = QueuePolicySection.Read(configuration, []).Where(p => p.Value.Retention is not null).ToArray();
            if (retained.Length > 0)
            {
                var queues = new Dictionary<string, RetentionPolicy>(o.Retention.Queues, StringComparer.Ordinal);
                foreach (var (queue, policy) in retained)
                {
                    queues[queue] = RetentionPolicy.Keeping(policy.Retention!.Value);
                }

                o.Retention = o.Retention with { Queues = queues };
            }

            sink?.AddRange(found);
            configure?.Invoke(o);
        }

        builder.AddMaintenance(o => Apply(o, errors));
        builder.Services.AddOptions<MaintenanceOptions>().Configure(o => Apply(o, null)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MaintenanceOptions>>(new SectionOptionsValidator<MaintenanceOptions>(section.Path, errors, o => o.Validate()));
        AddStartupGate(builder.Services);
        return builder;
    }

    /// <summary><c>UseStorageCircuit</c> with <see cref="StorageCircuitOptions"/> read from <c>Bulwark:StorageCircuit</c>; a bad value is refused here, naming the key.</summary>
    public static BulwarkBuilder UseStorageCircuit(this BulwarkBuilder builder, IConfiguration configuration, Action<StorageCircuitOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection($"{Section}:StorageCircuit");
        return builder.UseStorageCircuit(o =>
        {
            var errors = OptionsSectionReader.Apply(section, o);
            if (errors.Count > 0)
            {
                throw new OptionsValidationException(section.Path, typeof(StorageCircuitOptions), errors);
            }

            configure?.Invoke(o);
        });
    }

    // The host resolves every hosted service before it runs ValidateOnStart; the gate, first in the list, runs it then.
    private static void AddStartupGate(IServiceCollection services)
    {
        if (!services.Any(d => d.ImplementationType == typeof(OptionsStartupGate)))
        {
            services.Insert(0, ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, OptionsStartupGate>());
        }
    }

    private static RetentionPolicy ReadRetention(IConfigurationSection section, RetentionPolicy current, List<string>? errors)
    {
        var policy = current ?? RetentionPolicy.Default;
        foreach (var child in section.GetChildren())
        {
            if (string.Equals(child.Key, nameof(RetentionPolicy.BatchSize), StringComparison.OrdinalIgnoreCase))
            {
                if (int.TryParse(child.Value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n))
                {
                    policy = policy with { BatchSize = n };
                }
                else
                {
                    errors?.Add($"{child.Path} is '{child.Value}'; give a whole number.");
                }

                continue;
            }

            var error = OptionsSectionReader.ReadDuration(child, out var d);
            if (error is not null)
            {
                errors?.Add(error);
                continue;
            }

            switch (child.Key.ToUpperInvariant())
            {
                case "COMPLETED": policy = policy with { Completed = d ?? policy.Completed }; break;
                case "FAILED": policy = policy with { Failed = d ?? policy.Failed }; break;
                case "DEADLETTER": policy = policy with { DeadLetter = d ?? policy.DeadLetter }; break;
                case "CANCELLED": policy = policy with { Cancelled = d ?? policy.Cancelled }; break;
                default:
                    errors?.Add($"{child.Path} is not a known option; check the spelling (known: BatchSize, Cancelled, Completed, DeadLetter, Failed).");
                    break;
            }
        }

        return policy;
    }
}
