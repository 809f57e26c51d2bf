using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary><c>demo.alloc {"mb","ms"}</c>: allocates and touches that many MiB, holds them for <c>ms</c>, then lets them go.</summary>
internal sealed class DemoAllocHandler(TimeProvider time) : IJobHandler<DemoAllocPayload>
{
    public async Task<object?> HandleAsync(DemoAllocPayload payload, JobContext context)
    {
        DemoGuard.NotNegative(payload.Mb, "mb");
        DemoGuard.NotNegative(payload.Ms, "ms");
        var blocks = new byte[payload.Mb][];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = new byte[1024 * 1024];
            // Touch every page so the working set really grows.
            for (var j = 0; j < blocks[i].Length; j += 4096)
            {
                blocks[i][j] = 1;
            }
        }

        await Task.Delay(TimeSpan.FromMilliseconds(payload.Ms), time, context.CancellationToken);
        GC.KeepAlive(blocks);
        return new { allocatedMb = payload.Mb };
    }
}
