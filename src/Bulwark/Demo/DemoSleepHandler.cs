using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary><c>demo.sleep {"ms"}</c>: waits, honouring its token.</summary>
internal sealed class DemoSleepHandler(TimeProvider time) : IJobHandler<DemoDuration>
{
    public async Task<object?> HandleAsync(DemoDuration payload, JobContext context)
    {
        DemoGuard.NotNegative(payload.Ms, "ms");
        await Task.Delay(TimeSpan.FromMilliseconds(payload.Ms), time, context.CancellationToken);
        return null;
    }
}
