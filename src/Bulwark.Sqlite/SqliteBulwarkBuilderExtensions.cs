using Bulwark.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Sqlite;

/// <summary><c>services.AddBulwark(o =&gt; o.UseSqlite("jobs.db"))</c>.</summary>
public static class SqliteBulwarkBuilderExtensions
{
    /// <summary>Uses the embedded SQLite store at <paramref name="path"/>, on the host's <see cref="TimeProvider"/> unless <paramref name="configure"/> sets another.</summary>
    public static BulwarkBuilder UseSqlite(this BulwarkBuilder builder, string path, Action<SqliteStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var probe = new SqliteStoreOptions { Path = path };
        configure?.Invoke(probe);
        probe.Validate();
        builder.UseStore(sp =>
        {
            var options = new SqliteStoreOptions
            {
                Path = path,
                Time = sp.GetService<TimeProvider>() ?? TimeProvider.System,
                LoggerFactory = sp.GetService<ILoggerFactory>(),
                // Jobs committed by other processes on this file wake this host's workers at once.
                Signal = sp.GetService<Bulwark.Workers.JobSignal>(),
            };
            configure?.Invoke(options);
            return SqliteJobStore.Open(options);
        });
        // The store also joins the application's transactions on its file (IJobClient.EnqueueAsync(transaction, …), EF Core).
        builder.Services.AddSingleton<Bulwark.Storage.ITransactionalEnqueue>(sp => sp.GetRequiredService<SqliteJobStore>());
        return builder;
    }
}
