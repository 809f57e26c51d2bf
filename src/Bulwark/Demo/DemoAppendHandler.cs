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

        var bytes = Encoding.UTF8.GetBytes((payload.Line ?? string.Empty) + "\n");
        await using var file = await OpenExclusiveAsync(payload.Path, context.CancellationToken);
        file.Seek(0, SeekOrigin.End);
        await file.WriteAsync(bytes, context.CancellationToken);
        file.Flush(flushToDisk: true);
        return null;
    }

    /// <summary>
    /// .NET writes at a tracked offset rather than with O_APPEND, so concurrent appenders (threads or worker processes)
    /// would overwrite each other's lines. An exclusive open (a file lock across processes) serialises them.
    /// </summary>
    private static async Task<FileStream> OpenExclusiveAsync(string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Real time on purpose: this waits on another process's file lock, not on a job's clock.
                await Task.Delay(TimeSpan.FromMilliseconds(2), cancellationToken);
            }
        }
    }
}
