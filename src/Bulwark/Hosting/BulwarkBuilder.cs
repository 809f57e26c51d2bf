using Bulwark.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Bulwark.Hosting;

/// <summary>Configures Bulwark in a service collection: the store, handlers and workers. Returned by <c>AddBulwark</c>.</summary>
public sealed class BulwarkBuilder
{
    internal BulwarkBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection, for extensions (<c>UseSqlite</c>, <c>UsePostgres</c>, <c>AddHandler</c>, …).</summary>
    public IServiceCollection Services { get; }

    /// <summary>Uses a store created by <paramref name="factory"/> (one instance for the host; disposed with it).</summary>
    public BulwarkBuilder UseStore<TStore>(Func<IServiceProvider, TStore> factory)
        where TStore : class, IJobStore, IJobQuery
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.RemoveAll<IJobStore>();
        Services.RemoveAll<IJobQuery>();
        Services.RemoveAll<ITransactionalEnqueue>(); // a capability of the previous store, if it had it
        Services.RemoveAll<TStore>();
        Services.AddSingleton(factory);
        Services.AddSingleton<IJobStore>(sp => sp.GetRequiredService<TStore>());
        Services.AddSingleton<IJobQuery>(sp => sp.GetRequiredService<TStore>());
        return this;
    }
}
