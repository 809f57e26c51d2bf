using Bulwark.Workers;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class MemoryGuardTests
{
    private const long Mb = 1024 * 1024;
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestJobs.Clock();
    private long _workingSet = 50 * Mb;
    private long? _afterCollection;
    private int _collections;

    [Fact]
    public void Without_a_limit_leasing_is_never_paused_and_a_pass_reuses_the_last_reading()
    {
        var guard = Guard(limitMb: null);
        Assert.Equal(50 * Mb, guard.Read());
        _workingSet = 900 * Mb;

        var memory = guard.ReadForPass();
        Assert.Equal(50 * Mb, memory);
        Assert.True(guard.AllowsLeasing(ref memory));
        Assert.Equal(0, _collections);
    }

    [Fact]
    public void Over_the_limit_it_pauses_and_collects_at_most_once_per_interval()
    {
        var guard = Guard(limitMb: 100);
        _workingSet = 150 * Mb;

        Assert.False(Pass(guard));
        Assert.True(guard.IsOverLimit);
        Assert.False(Pass(guard));
        Assert.Equal(1, _collections);

        _time.Advance(MemoryGuard.CollectInterval);
        Assert.False(Pass(guard));
        Assert.Equal(2, _collections);
    }

    [Fact]
    public void Memory_the_collection_frees_lets_leasing_go_on_at_once()
    {
        var guard = Guard(limitMb: 100);
        _workingSet = 150 * Mb;
        _afterCollection = 60 * Mb;

        var memory = guard.ReadForPass();
        Assert.True(guard.AllowsLeasing(ref memory));
        Assert.Equal(60 * Mb, memory);
        Assert.False(guard.IsOverLimit);
    }

    [Fact]
    public void Back_under_the_limit_it_resumes()
    {
        var guard = Guard(limitMb: 100);
        _workingSet = 150 * Mb;
        Assert.False(Pass(guard));

        _workingSet = 80 * Mb;
        Assert.True(Pass(guard));
        Assert.False(guard.IsOverLimit);
    }

    private static bool Pass(MemoryGuard guard)
    {
        var memory = guard.ReadForPass();
        return guard.AllowsLeasing(ref memory);
    }

    private MemoryGuard Guard(long? limitMb) => new(
        new WorkerOptions { Name = "w", MemoryLimitBytes = limitMb * Mb },
        () => _workingSet,
        () =>
        {
            _collections++;
            _workingSet = _afterCollection ?? _workingSet;
        },
        _time,
        NullLogger.Instance);
}
