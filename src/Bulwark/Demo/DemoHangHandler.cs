using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary><c>demo.hang</c>: never finishes and ignores its token; the worker abandons it after its timeout and grace period.</summary>
internal sealed class DemoHangHandler : IJobHandler<DemoEmpty>
{
    public async Task<object?> HandleAsync(DemoEmpty payload, JobContext context)
    {
        await new TaskCompletionSource().Task;
        return null;
    }
}
