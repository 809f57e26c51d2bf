using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary><c>demo.steps {"steps","ms"}</c>: saves progress and a checkpoint after each step; a retry resumes after the last saved step.</summary>
internal sealed class DemoStepsHandler(TimeProvider time) : IJobHandler<DemoStepsPayload>
{
    public async Task<object?> HandleAsync(DemoStepsPayload payload, JobContext context)
    {
        DemoGuard.NotNegative(payload.Ms, "ms");
        if (payload.Steps < 1)
        {
            throw new PermanentJobException($"demo.steps needs \"steps\" of at least 1 (got {payload.Steps}).");
        }

        var resumedFrom = context.GetCheckpoint<DemoStepsCheckpoint>()?.Step ?? 0;
        for (var step = resumedFrom + 1; step <= payload.Steps; step++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(payload.Ms), time, context.CancellationToken);
            if (!await context.ReportProgressAsync(step * 100 / payload.Steps, new DemoStepsCheckpoint(step)))
            {
                context.CancellationToken.ThrowIfCancellationRequested();
            }
        }

        return new { steps = payload.Steps, resumedFrom };
    }
}
