using Bulwark.Jobs;
using Bulwark.Server.Api;
using Bulwark.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests;

public sealed class QueueLimiterTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly InMemoryJobStore _store;

    public QueueLimiterTests() => _store = new InMemoryJobStore(_time);

    [Fact]
    public async Task An_enqueue_committing_while_a_depth_sample_is_read_still_counts_so_the_hard_limit_is_never_passed()
    {
        var limiter = Limiter(hardLimit: 3);
        await StoreAsync(2);
        var inFlight = Jobs(1);
        await limiter.ReserveAsync(inFlight, CancellationToken.None);

        // The sampler reads depths before the in-flight enqueue commits; the commit lands before the sample is applied.
        var readBegan = limiter.BeginSample();
        var sample = await _store.GetQueuesAsync();
        await _store.EnqueueAsync(inFlight);
        limiter.Committed(inFlight);
        limiter.Update(sample, _time.GetUtcNow(), readBegan);

        var problem = await Assert.ThrowsAsync<ApiProblemException>(() => limiter.ReserveAsync(Jobs(1), CancellationToken.None));
        Assert.Contains("holds 3 waiting jobs and its hard limit is 3", problem.Message);
    }

    [Fact]
    public async Task A_sample_read_after_an_enqueue_committed_replaces_its_reservation_instead_of_counting_it_twice()
    {
        var limiter = Limiter(hardLimit: 4);
        await StoreAsync(2);
        var first = Jobs(1);
        await limiter.ReserveAsync(first, CancellationToken.None);
        await _store.EnqueueAsync(first);
        limiter.Committed(first);

        var readBegan = limiter.BeginSample();
        limiter.Update(await _store.GetQueuesAsync(), _time.GetUtcNow(), readBegan);

        await limiter.ReserveAsync(Jobs(1), CancellationToken.None);
        await Assert.ThrowsAsync<ApiProblemException>(() => limiter.ReserveAsync(Jobs(1), CancellationToken.None));
    }

    [Fact]
    public async Task A_released_reservation_gives_its_room_back()
    {
        var limiter = Limiter(hardLimit: 1);
        var failed = Jobs(1);
        await limiter.ReserveAsync(failed, CancellationToken.None);
        await Assert.ThrowsAsync<ApiProblemException>(() => limiter.ReserveAsync(Jobs(1), CancellationToken.None));

        limiter.Release(failed);
        await limiter.ReserveAsync(Jobs(1), CancellationToken.None);
    }

    private QueueLimiter Limiter(long hardLimit)
    {
        var options = new BulwarkServerOptions();
        options.Queues["tiny"] = new QueueLimitOptions { HardLimit = hardLimit };
        return new QueueLimiter(_store, options, _time, NullLogger<QueueLimiter>.Instance);
    }

    private async Task StoreAsync(int count) => await _store.EnqueueAsync(Jobs(count));

    private static NewJob[] Jobs(int count) =>
        [.. Enumerable.Range(0, count).Select(_ => JobValidator.Validate(new NewJob { Queue = "tiny", Type = "demo.noop", Payload = "{}" }))];
}
