using Bulwark.Hosting;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Postgres;

/// <summary><c>services.AddBulwark(o =&gt; o.UsePostgres("postgres://app@db:5432/jobs"))</c>.</summary>
public static class PostgresBulwarkBuilderExtensions
{
    /// <summary>
    /// Uses the PostgreSQL store. <paramref name="connectionString"/> is an Npgsql connection string or a
    /// <c>postgres://user:password@host:port/database</c> URL. The schema is migrated on first use; notifications from any
    /// machine wake this host's workers through its <see cref="JobSignal"/>.
    /// </summary>
    public static BulwarkBuilder UsePostgres(this BulwarkBuilder builder, string connectionString, Func<PostgresStoreOptions, PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Fail at configuration time, with the reason, rather than at the first job.
        PostgresConnectionString.Normalize(connectionString);
        builder.UseStore(sp =>
        {
            var options = new PostgresStoreOptions
            {
                ConnectionString = connectionString,
                Time = sp.GetService<TimeProvider>() ?? TimeProvider.System,
                Signal = sp.GetService<JobSignal>(),
                LoggerFactory = sp.GetService<ILoggerFactory>(),
            };
            return PostgresJobStore.Create(configure is null ? options : configure(options));
        });
        // The store also joins the application's transactions (IJobClient.EnqueueAsync(transaction, …), EF Core).
        builder.Services.AddSingleton<ITransactionalEnqueue>(sp => sp.GetRequiredService<PostgresJobStore>());
        return builder;
    }
}
