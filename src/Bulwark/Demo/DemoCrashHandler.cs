using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary><c>demo.crash</c>: terminates the whole worker process mid-job, as a poison job does.</summary>
internal sealed class DemoCrashHandler : IJobHandler<DemoEmpty>
{
    public Task<object?> HandleAsync(DemoEmpty payload, JobContext context)
    {
        Environment.FailFast($"demo.crash: job {context.JobId} terminates its worker process (attempt {context.Attempt}).");
        return Task.FromResult<object?>(null);
    }
}
