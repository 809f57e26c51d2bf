using Bulwark.Hosting;
using Bulwark.StoreContract;
using Bulwark.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>Selecting the PostgreSQL store: connection strings and URLs, and <c>UsePostgres</c> in the library.</summary>
public sealed class UsePostgresTests : IAsyncLifetime
{
    private readonly string _schema = PostgresTestDatabase.NewSchema("hosting");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => PostgresTestDatabase.DropSchemaAsync(_schema);

    [Fact]
    public void A_postgres_url_becomes_an_npgsql_connection_string()
    {
        var normalized = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Normalize("postgres://app:p%40ss@10.0.0.5:5433/jobs?sslmode=disable&Timeout=7"));

        Assert.Equal("10.0.0.5", normalized.Host);
        Assert.Equal(5433, normalized.Port);
        Assert.Equal("app", normalized.Username);
        Assert.Equal("p@ss", normalized.Password);
        Assert.Equal("jobs", normalized.Database);
        Assert.Equal(SslMode.Disable, normalized.SslMode);
        Assert.Equal(7, normalized.Timeout);
    }

    [Theory]
    [InlineData("postgres://app@127.0.0.1:5432/jobs", true)]
    [InlineData("postgresql://db/jobs", true)]
    [InlineData("Host=db;Database=jobs", true)]
    [InlineData("./bulwark.db", false)]
    [InlineData("jobs.db", false)]
    public void A_store_value_is_recognised_as_postgres_only_when_it_names_a_server(string store, bool expected)
    {
        Assert.Equal(expected, PostgresJobStore.IsPostgresStore(store));
    }

    [Fact]
    public void A_malformed_connection_string_is_refused_with_both_accepted_forms()
    {
        var ex = Assert.Throws<ArgumentException>(() => PostgresConnectionString.Normalize("Hots=db;Nonsense"));

        Assert.Contains("postgres://user@host:5432/db", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsePostgres_with_a_url_serves_the_client_store_and_query()
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresTestDatabase.ConnectionString);
        var url = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        var services = new ServiceCollection();
        services.AddBulwark(o => o.UsePostgres(url, options => options with { Schema = _schema }));
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IJobStore>();
        var id = (await store.EnqueueAsync([TestJobs.New("hosted")]))[0].Id;

        Assert.IsType<PostgresJobStore>(store);
        Assert.Same(store, provider.GetRequiredService<IJobQuery>());
        Assert.Equal("hosted", (await provider.GetRequiredService<IJobQuery>().GetJobAsync(id))!.Queue);
    }
}
