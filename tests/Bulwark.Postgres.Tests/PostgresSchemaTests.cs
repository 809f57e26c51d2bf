using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>A test class that opens one store (no LISTEN) on a schema of its own and drops the schema afterwards.</summary>
public abstract class PostgresSchemaTests(string prefix) : IAsyncLifetime
{
    protected string Schema { get; } = PostgresTestDatabase.NewSchema(prefix);

    protected PostgresJobStore Store { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Store = await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresTestDatabase.ConnectionString, Schema = Schema, Listen = false });

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        await PostgresTestDatabase.DropSchemaAsync(Schema);
    }
}
