using System.Text;
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

        // One write per line with O_APPEND semantics: concurrent workers' lines never interleave.
        var bytes = Encoding.UTF8.GetBytes((payload.Line ?? string.Empty) + "\n");
        await using var file = new FileStream(payload.Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        await file.WriteAsync(bytes, context.CancellationToken);
        file.Flush(flushToDisk: true);
        return null;
    }
}
