using Bulwark.Storage;
using Bulwark.StoreContract;
using Bulwark.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Tests.Testing;

public sealed class InMemoryJobStoreTests : JobStoreContractTests
{
    protected override Task<(IJobStore Store, IJobQuery Query)> CreateStoreAsync(FakeTimeProvider time)
    {
        var store = new InMemoryJobStore(time);
        return Task.FromResult<(IJobStore, IJobQuery)>((store, store));
    }
}
