using Bulwark.Diagnostics;
using Bulwark.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Storage;

/// <summary><c>builder.UseSqlite(path).UseStorageCircuit()</c>: puts the storage circuit in front of the chosen store.</summary>
public static class StorageCircuitBuilderExtensions
{
    /// <summary>
    /// Wraps the registered <see cref="IJobStore"/> in a <see cref="CircuitBreakingJobStore"/> and registers its
    /// <see cref="StorageCircuit"/>. Call after choosing the store. Reads (<see cref="IJobQuery"/>) are not wrapped.
    /// </summary>
    public static BulwarkBuilder UseStorageCircuit(this BulwarkBuilder builder, Action<StorageCircuitOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IJobStore))
            ?? throw new InvalidOperationException("UseStorageCircuit needs a store: call UseSqlite, UseInMemory or UseStore first.");
        services.Remove(registered);

        var options = new StorageCircuitOptions();
        configure?.Invoke(options);
        options.Validated();

        services.AddSingleton(sp => new StorageCircuit(options, sp.GetService<TimeProvider>(), sp.GetService<BulwarkMetrics>()));
        services.AddSingleton(sp => new CircuitBreakingJobStore(Resolve(sp, registered), sp.GetRequiredService<StorageCircuit>()));
        services.AddSingleton<IJobStore>(sp => sp.GetRequiredService<CircuitBreakingJobStore>());
        return builder;
    }

    private static IJobStore Resolve(IServiceProvider sp, ServiceDescriptor descriptor) =>
        descriptor switch
        {
            { ImplementationInstance: IJobStore instance } => instance,
            { ImplementationFactory: { } factory } => (IJobStore)factory(sp),
            { ImplementationType: { } type } => (IJobStore)ActivatorUtilities.GetServiceOrCreateInstance(sp, type),
            _ => throw new InvalidOperationException("The registered IJobStore cannot be wrapped; register it with UseStore."),
        };
}
