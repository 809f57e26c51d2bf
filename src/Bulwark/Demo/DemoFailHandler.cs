using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary><c>demo.fail {"times","category"}</c>: fails its first <c>times</c> attempts as Temporary, Permanent or System, then completes.</summary>
internal sealed class DemoFailHandler : IJobHandler<DemoFailPayload>
{
    public Task<object?> HandleAsync(DemoFailPayload payload, JobContext context)
    {
        if (context.Attempt > payload.Times)
        {
            return Task.FromResult<object?>(new { succeededOnAttempt = context.Attempt });
        }

        var message = $"demo.fail: attempt {context.Attempt} fails (the first {payload.Times} do)";
        throw (payload.Category ?? "temporary").ToLowerInvariant() switch
        {
            "temporary" => new InvalidOperationException(message),
            "permanent" => new PermanentJobException(message),
            "system" => new NullReferenceException(message),
            var other => new PermanentJobException($"demo.fail: category '{other}' is unknown; use temporary, permanent or system."),
        };
    }
}
