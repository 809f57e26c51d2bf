using Bulwark.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Testing;

/// <summary><c>services.AddBulwark(o =&gt; o.UseInMemory())</c>: for tests and demos; nothing survives the process.</summary>
public static class InMemoryBulwarkBuilderExtensions
{
    /// <summary>Uses an <see cref="InMemoryJobStore"/> whose clock is the host's <see cref="TimeProvider"/>.</summary>
    public static BulwarkBuilder UseInMemory(this BulwarkBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseStore(sp => new InMemoryJobStore(sp.GetService<TimeProvider>()));
    }
}
