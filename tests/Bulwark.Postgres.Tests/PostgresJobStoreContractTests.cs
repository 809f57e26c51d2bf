using Bulwark.StoreContract;
using Bulwark.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Postgres.Tests;

/// <summary>The whole store contract, unchanged, on PostgreSQL. Each test gets its own schema; the store clock is the test's fake clock (the documented test seam).</summary>
public sealed class PostgresJobStoreContractTests : DurableJobStoreContractTests
{
    private readonly string _schema = PostgresTestDatabase.NewSchema("contract");

    protected override async Task<(IJobStore Store, IJobQuery Query)> CreateStoreAsync(FakeTimeProvider time)
    {
        var store = await OpenAsync(time);
        return (store, store);
    }

    protected override async Task<(IJobStore Store, IJobQuery Query)> ReopenAsync(FakeTimeProvider time)
    {
        await Store.DisposeAsync();
        var store = await OpenAsync(time);
        return (store, store);
    }

    /// <summary>A second store instance on the same schema, as another machine would open it.</summary>
    protected override async Task<(IJobStore Store, IJobQuery Query)> OpenPeerCoreAsync(FakeTimeProvider time)
    {
        var peer = await OpenAsync(time);
        return (peer, peer);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await PostgresTestDatabase.DropSchemaAsync(_schema);
    }

    private Task<PostgresJobStore> OpenAsync(FakeTimeProvider time) =>
        PostgresJobStore.OpenAsync(new PostgresStoreOptions
        {
            ConnectionString = PostgresTestDatabase.ConnectionString,
            Schema = _schema,
            StoreClockOverride = time,
            Listen = false,
        });
}
