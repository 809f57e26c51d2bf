using System.Globalization;
using Bulwark.Jobs;
using Bulwark.Server.Api;
using Bulwark.Server.Auth;
using Bulwark.Server.Health;
using Bulwark.Server.Observability;
using Bulwark.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Bulwark.Server;

/// <summary><c>services.AddBulwarkServer()</c>: what <c>MapBulwarkApi</c>, <c>MapBulwarkHealth</c> and <c>MapBulwarkMetrics</c> need.</summary>
public static class BulwarkServerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the server's services: options from <c>Bulwark:Server</c> (then <paramref name="configure"/>), access by API key
    /// or authorization policy (loopback callers only when neither is configured; the rest of the app is not affected),
    /// backpressure, the queue-depth sampler, the storage-circuit prober (when <c>UseStorageCircuit</c> is on), and Bulwark's
    /// meter and activity source on the app's OpenTelemetry pipeline (no exporter: see <see cref="AddBulwarkTelemetry"/>).
    /// Call <c>AddBulwark</c> too.
    /// </summary>
    public static IServiceCollection AddBulwarkServer(this IServiceCollection services, Action<BulwarkServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(sp => ReadOptions(sp.GetRequiredService<IConfiguration>(), configure));
        services.TryAddSingleton(sp => new ApiKeySet(sp.GetRequiredService<BulwarkServerOptions>()));
        services.TryAddSingleton<ServerAccess>();
        services.TryAddSingleton<ServerState>();
        services.TryAddSingleton<QueueLimiter>();
        // Every operator action, for the API and the dashboard alike.
        services.TryAddSingleton(sp => new AdminActions(
            sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<IJobQuery>(), sp.GetRequiredService<BulwarkServerOptions>().WorkerDeadAfter,
            sp.GetService<TimeProvider>(), sp.GetService<Workers.JobSignal>(), sp.GetService<Diagnostics.BulwarkMetrics>(), sp.GetService<ILoggerFactory>()?.CreateLogger("Bulwark.Server")));
        services.AddProblemDetails();
        services.AddHostedService<AccessStartupCheck>();
        services.AddHostedService<QueueDepthSampler>();
        services.AddHostedService<StorageCircuitProber>();
        // Instrumentation only, as OpenTelemetry asks of libraries: whatever exporters the app configures (UseOtlpExporter,
        // Prometheus, …) receive Bulwark's metrics and spans, and none is added behind the app's back.
        services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddBulwarkInstrumentation())
            .WithTracing(tracing => tracing.AddBulwarkInstrumentation());
        return services;
    }

    /// <summary>
    /// The exporters of the <c>bulwark</c> command line, for hosts that own their whole telemetry pipeline: Bulwark's meter
    /// and activity source, a Prometheus scrape endpoint (map it with <c>MapBulwarkMetrics</c>), and OTLP metrics and traces
    /// when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. An application with its own OpenTelemetry set-up (for example .NET
    /// Aspire's <c>UseOtlpExporter()</c>) should not call this: add <c>AddBulwarkInstrumentation()</c> to its pipeline instead.
    /// </summary>
    public static IServiceCollection AddBulwarkTelemetry(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var otlp = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        var telemetry = services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            // No scrape cache: a scrape right after an action shows it (operators and tests both expect that).
            metrics.AddBulwarkInstrumentation().AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
            if (otlp)
            {
                metrics.AddOtlpExporter();
            }
        });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing.AddBulwarkInstrumentation().AddOtlpExporter());
        }

        return services;
    }

    /// <summary>Reads <c>Bulwark:Server</c> (then <paramref name="configure"/>); throws with the key and the value to change when a value is malformed.</summary>
    public static BulwarkServerOptions ReadOptions(IConfiguration configuration, Action<BulwarkServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(BulwarkServerOptions.Section);
        var options = new BulwarkServerOptions();
        foreach (var key in Keys(section.GetSection("ReadKeys")))
        {
            options.ReadKeys.Add(key);
        }

        foreach (var key in Keys(section.GetSection("AdminKeys")))
        {
            options.AdminKeys.Add(key);
        }

        options.AdminPolicy = Name(section, "AdminPolicy");
        options.ReadPolicy = Name(section, "ReadPolicy");
        options.DefaultHardLimit = Count(section, "DefaultHardLimit") ?? options.DefaultHardLimit;
        options.DefaultWarningDepth = Count(section, "DefaultWarningDepth") ?? options.DefaultWarningDepth;
        options.MaxRequestBytes = Count(section, "MaxRequestBytes") ?? options.MaxRequestBytes;
        options.FullQueueRetryAfter = Duration(section, "FullQueueRetryAfter") ?? options.FullQueueRetryAfter;
        options.WorkerDeadAfter = Duration(section, "WorkerDeadAfter") ?? options.WorkerDeadAfter;
        options.DepthSampleInterval = Duration(section, "DepthSampleInterval") ?? options.DepthSampleInterval;
        foreach (var queue in section.GetSection("Queues").GetChildren())
        {
            JobValidator.ValidateQueue(queue.Key);
            options.Queues[queue.Key] = new QueueLimitOptions { HardLimit = Count(queue, "HardLimit"), WarningDepth = Count(queue, "WarningDepth") };
        }

        configure?.Invoke(options);
        if (options.DepthSampleInterval <= TimeSpan.Zero || options.WorkerDeadAfter <= TimeSpan.Zero || options.FullQueueRetryAfter <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Bulwark:Server: DepthSampleInterval, WorkerDeadAfter and FullQueueRetryAfter must be positive durations such as 5s.");
        }

        return options;
    }

    // A key list may be given as an array (ReadKeys:0, ReadKeys:1) or as one comma-separated value.
    private static IEnumerable<string> Keys(IConfigurationSection section) =>
        (section.Value is { } single ? single.Split(',') : section.GetChildren().Select(c => c.Value ?? ""))
            .Select(k => k.Trim()).Where(k => k.Length > 0);

    private static string? Name(IConfiguration section, string name) => string.IsNullOrWhiteSpace(section[name]) ? null : section[name]!.Trim();

    private static long? Count(IConfiguration section, string name)
    {
        var text = section[name];
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new InvalidOperationException($"{Path(section)}:{name} is '{text}'; give a positive whole number.");
    }

    private static TimeSpan? Duration(IConfiguration section, string name)
    {
        var text = section[name];
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return DurationText.TryParse(text, out var d)
            ? d
            : throw new InvalidOperationException($"{Path(section)}:{name} is '{text}'; give a duration such as 5s, 1m or 2h.");
    }

    private static string Path(IConfiguration section) => section is IConfigurationSection s ? s.Path : BulwarkServerOptions.Section;
}
