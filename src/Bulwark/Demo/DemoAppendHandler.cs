using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary><c>demo.append {"path","line"}</c>: appends one line to a file and flushes it to disk, so executions can be counted from outside.</summary>
internal sealed class DemoAppendHandler : IJobHandler<DemoAppendPayload>
{
    public async Task<object?> HandleAsync(DemoAppendPayload payload, JobContext context)
    {
        if (string.IsNullOrWhiteSpace(payload.Path))
        {
            throw new PermanentJobException("demo.append needs a \"path\" to append to.");
        }

        await DemoFile.AppendLineAsync(payload.Path, payload.Line ?? string.Empty, context.CancellationToken);
        return null;
    }
}
