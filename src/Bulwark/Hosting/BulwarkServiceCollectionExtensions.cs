using Bulwark.Client;
using Bulwark.Diagnostics;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Bulwark.Hosting;

/// <summary><c>services.AddBulwark(o =&gt; o.UseSqlite("jobs.db"))</c>.</summary>
public static class BulwarkServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Bulwark core (the client as <see cref="IJobClient"/> and <see cref="JobClient"/>, metrics, signal, clock) and
    /// lets <paramref name="configure"/> choose the store.
    /// </summary>
    public static BulwarkBuilder AddBulwark(this IServiceCollection services, Action<BulwarkBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new BulwarkMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<JobSignal>();
        services.AddOptions<JobClientOptions>();
        services.TryAddSingleton(sp => new JobClient(
            sp.GetRequiredService<IJobStore>(),
            sp.GetRequiredService<IJobQuery>(),
            sp.GetRequiredService<IOptions<JobClientOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<JobSignal>(),
            sp.GetRequiredService<BulwarkMetrics>(),
            new JobTypeMap(sp.GetServices<HandlerRegistration>()),
            sp.GetService<ITransactionalEnqueue>()));
        services.TryAddSingleton<IJobClient>(sp => sp.GetRequiredService<JobClient>());
        var builder = new BulwarkBuilder(services);
        configure?.Invoke(builder);
        return builder;
    }
}
