using Bulwark.Hosting;
using Bulwark.Workers;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class HeartbeatThreadTests
{
    [Fact]
    public async Task The_heartbeat_keeps_beating_while_handlers_hog_every_pool_thread()
    {
        var stop = 0;
        var slots = Environment.ProcessorCount * 4;
        var spinning = 0;
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("spin", (_, _) =>
            {
                Interlocked.Increment(ref spinning);
                // Spin without yielding: this pool thread is gone until the test lets go.
                while (Volatile.Read(ref stop) == 0)
                {
                    Thread.SpinWait(1000);
                }

                return Task.CompletedTask;
            }),
            o => o.Concurrency = slots);
        for (var i = 0; i < slots; i++)
        {
            await h.EnqueueAsync("spin");
        }

        using var heartbeat = new HeartbeatThread(h.Runtime, h.Time, h.Options.HeartbeatInterval);
        try
        {
            Assert.Equal(slots, await h.Runtime.RunOnceAsync());
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref spinning) >= Environment.ProcessorCount, TimeSpan.FromSeconds(10)));
            heartbeat.Start();
            for (var beat = 1; beat <= 3; beat++)
            {
                h.Time.Advance(h.Options.HeartbeatInterval);
                // Polled from this thread with a deadline; pool threads are all busy spinning.
                var expected = beat;
                Assert.True(SpinWait.SpinUntil(() => h.Runtime.Heartbeats >= expected, TimeSpan.FromSeconds(5)), $"beat {beat} did not happen");
            }
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            heartbeat.Stop();
        }

        await h.SettleAsync();
    }
}
