using System.Text;

namespace Bulwark.Demo;

/// <summary>Appends lines to a file that other threads and worker processes append to as well (demo.append, demo.trace).</summary>
internal static class DemoFile
{
    /// <summary>Appends <paramref name="line"/> and a newline, flushed to disk before it returns.</summary>
    public static async Task AppendLineAsync(string path, string line, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        await using var file = await OpenExclusiveAsync(path, cancellationToken);
        file.Seek(0, SeekOrigin.End);
        await file.WriteAsync(bytes, cancellationToken);
        file.Flush(flushToDisk: true);
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
