using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Bulwark.StoreContract;

/// <summary>
/// The contract every <see cref="IJobStore"/>/<see cref="IJobQuery"/> must pass. A store's test project subclasses it
/// and supplies <see cref="CreateStoreAsync"/>; a store is done when every test here is green.
/// The store's clock is <see cref="Time"/>; tests move it with <c>Time.Advance</c>.
/// </summary>
public abstract partial class JobStoreContractTests : IAsyncLifetime
{
    /// <summary>The store's clock.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>The store under test.</summary>
    protected IJobStore Store { get; private set; } = null!;

    /// <summary>The same store's reads.</summary>
    protected IJobQuery Query { get; private set; } = null!;

    /// <summary>A lease length used by most tests.</summary>
    protected static readonly TimeSpan LeaseLength = TimeSpan.FromSeconds(10);

    /// <summary>Creates a fresh, empty store whose clock is <paramref name="time"/>.</summary>
    protected abstract Task<(IJobStore Store, IJobQuery Query)> CreateStoreAsync(FakeTimeProvider time);

    /// <inheritdoc />
    public async Task InitializeAsync() { (Store, Query) = await CreateStoreAsync(Time); }

    /// <inheritdoc />
    public virtual async Task DisposeAsync()
    {
        foreach (var peer in _peers)
        {
            await peer.DisposeAsync();
        }

        await Store.DisposeAsync();
    }

    private readonly List<IJobStore> _peers = [];

    /// <summary>
    /// Another store instance on the same data (another process, as far as the store can tell), sharing the clock.
    /// Stores whose data lives in one instance (in-memory) return the same instance.
    /// </summary>
    protected virtual Task<(IJobStore Store, IJobQuery Query)> OpenPeerCoreAsync(FakeTimeProvider time) => Task.FromResult((Store, Query));

    /// <summary>Opens a peer (see <see cref="OpenPeerCoreAsync"/>), disposed with the test.</summary>
    protected async Task<(IJobStore Store, IJobQuery Query)> OpenPeerAsync()
    {
        var peer = await OpenPeerCoreAsync(Time);
        if (!ReferenceEquals(peer.Store, Store))
        {
            _peers.Add(peer.Store);
        }

        return peer;
    }

    /// <summary>Swaps in another store instance (used by the durable suite after a reopen).</summary>
    private protected void Swap((IJobStore Store, IJobQuery Query) opened) => (Store, Query) = opened;

    /// <summary>The store clock's now.</summary>
    protected DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>Enqueues one job and returns its id.</summary>
    protected async Task<long> EnqueueAsync(NewJob job)
    {
        var results = await Store.EnqueueAsync([job]);
        Assert.Single(results);
        return results[0].Id;
    }

    /// <summary>Enqueues a default job in <paramref name="queue"/>.</summary>
    protected Task<long> EnqueueAsync(string queue = "default", int priority = 0, int maxAttempts = 3) =>
        EnqueueAsync(TestJobs.New(queue, priority: priority, maxAttempts: maxAttempts));

    /// <summary>Leases up to <paramref name="max"/> jobs.</summary>
    protected Task<IReadOnlyList<LeasedJob>> LeaseAsync(int max = 1, string worker = "w1", TimeSpan? lease = null, params string[] queues) =>
        Store.LeaseAsync(new LeaseRequest(worker, queues.Length == 0 ? ["default"] : queues, max, lease ?? LeaseLength));

    /// <summary>Leases exactly one job and returns it.</summary>
    protected async Task<LeasedJob> LeaseOneAsync(string worker = "w1", TimeSpan? lease = null, string queue = "default")
    {
        var leased = await LeaseAsync(1, worker, lease, queue);
        return Assert.Single(leased);
    }

    /// <summary>Reads a job that must exist.</summary>
    protected async Task<JobSnapshot> GetAsync(long id)
    {
        var job = await Query.GetJobAsync(id);
        Assert.NotNull(job);
        return job;
    }

    /// <summary>Applies one outcome and returns its fence result.</summary>
    protected async Task<FenceResult> FinishAsync(JobOutcome outcome)
    {
        var results = await Store.FinishAsync([outcome]);
        return Assert.Single(results);
    }

    /// <summary>An error record for the attempt of <paramref name="leased"/>.</summary>
    protected JobError ErrorOf(LeasedJob leased, FailureCategory category = FailureCategory.Temporary, string message = "boom") =>
        TestJobs.Error(leased.Attempt, Now, category, message);

    /// <summary>Every outcome kind, built for <paramref name="token"/>.</summary>
    protected JobOutcome OutcomeOf(OutcomeKind kind, LeaseToken token)
    {
        var error = TestJobs.Error(1, Now);
        return kind switch
        {
            OutcomeKind.Complete => JobOutcome.Complete(token, """{"ok":true}"""),
            OutcomeKind.Retry => JobOutcome.Retry(token, error, TimeSpan.FromSeconds(5)),
            OutcomeKind.Fail => JobOutcome.Fail(token, error),
            OutcomeKind.DeadLetter => JobOutcome.DeadLetter(token, error, "attempts exhausted"),
            OutcomeKind.Release => JobOutcome.Release(token, error with { Category = FailureCategory.Shutdown }),
            OutcomeKind.Cancelled => JobOutcome.Cancelled(token, error with { Category = FailureCategory.Cancelled }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>Registers a worker and returns its registration.</summary>
    protected async Task<WorkerRegistration> RegisterAsync(string id, string name = "worker", string host = "host-a")
    {
        var worker = TestJobs.Worker(id, Now, name, host);
        await Store.RegisterWorkerAsync(worker);
        return worker;
    }

    /// <summary>Sends a heartbeat for <paramref name="worker"/> holding <paramref name="held"/>.</summary>
    protected Task<HeartbeatResult> HeartbeatAsync(WorkerRegistration worker, params LeaseToken[] held) =>
        Store.HeartbeatAsync(new WorkerHeartbeat(worker, held, LeaseLength));
}
