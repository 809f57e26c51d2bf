using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary><c>demo.noop</c>: does nothing and completes.</summary>
internal sealed class DemoNoopHandler : IJobHandler<DemoEmpty>
{
    public Task<object?> HandleAsync(DemoEmpty payload, JobContext context) => Task.FromResult<object?>(null);
}
