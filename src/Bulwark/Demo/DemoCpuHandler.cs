using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary><c>demo.cpu {"ms"}</c>: spins a core for that long without yielding its thread (it does watch its token).</summary>
internal sealed class DemoCpuHandler(TimeProvider time) : IJobHandler<DemoDuration>
{
    public Task<object?> HandleAsync(DemoDuration payload, JobContext context)
    {
        DemoGuard.NotNegative(payload.Ms, "ms");
        var start = time.GetTimestamp();
        var spins = 0L;
        while (time.GetElapsedTime(start).TotalMilliseconds < payload.Ms)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            spins++;
        }

        return Task.FromResult<object?>(new { spins });
    }
}
