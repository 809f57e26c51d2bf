using Bulwark.Workers;
using Xunit;

namespace Bulwark.Worker.Tests;

/// <summary>A notification that lands while a worker's pass runs, before it starts waiting, must not be lost to the poll.</summary>
public sealed class JobSignalTests
{
    [Fact]
    public async Task A_notification_after_the_version_was_read_ends_the_wait_at_once()
    {
        var signal = new JobSignal();
        var seen = signal.Version;
        signal.Notify("default"); // during the pass

        var wait = signal.WaitAsync(seen, TimeSpan.FromMinutes(5), TimeProvider.System, CancellationToken.None);
        Assert.True(wait.IsCompleted, "the wait should not have started: a notification came during the pass");
        await wait;
    }

    [Fact]
    public async Task Without_a_notification_since_the_version_the_wait_lasts_until_the_next_one()
    {
        var signal = new JobSignal();
        var wait = signal.WaitAsync(signal.Version, TimeSpan.FromMinutes(5), TimeProvider.System, CancellationToken.None);
        Assert.False(wait.IsCompleted);

        signal.Notify("default");
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
