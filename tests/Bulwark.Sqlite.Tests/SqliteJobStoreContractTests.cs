using Bulwark.Storage;
using Bulwark.StoreContract;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Sqlite.Tests;

/// <summary>The shared store contract (with its durability part) on the SQLite store, one file per test.</summary>
public sealed class SqliteJobStoreContractTests : DurableJobStoreContractTests, IDisposable
{
    private readonly TempDatabase _database = new();
    private SqliteJobStore? _current;

    protected override async Task<(IJobStore Store, IJobQuery Query)> CreateStoreAsync(FakeTimeProvider time)
    {
        _current = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _database.Path, Time = time });
        return (_current, _current);
    }

    protected override async Task<(IJobStore Store, IJobQuery Query)> ReopenAsync(FakeTimeProvider time)
    {
        if (_current is not null)
        {
            await _current.DisposeAsync();
        }

        return await CreateStoreAsync(time);
    }

    /// <summary>A second store instance on the same file, as another process would open it.</summary>
    protected override async Task<(IJobStore Store, IJobQuery Query)> OpenPeerCoreAsync(FakeTimeProvider time)
    {
        var peer = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _database.Path, Time = time });
        return (peer, peer);
    }

    public void Dispose() => _database.Dispose();
}
