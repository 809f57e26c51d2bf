using System.Runtime.InteropServices;

namespace Bulwark.Sqlite;

/// <summary>
/// Sleeps for less than a millisecond: <see cref="Thread.Sleep(TimeSpan)"/> and <see cref="Task.Delay(TimeSpan)"/> round
/// to whole milliseconds (or to a yield), which is as long as the wait they would stand for. Through <c>usleep(3)</c>.
/// </summary>
internal static partial class ShortSleep
{
    internal static void For(TimeSpan span)
    {
        if (OperatingSystem.IsWindows())
        {
            // No usleep; Windows sleeps in scheduler ticks anyway, so a yield is the shortest wait there.
            Thread.Yield();
            return;
        }

        _ = usleep((uint)Math.Clamp(span.TotalMicroseconds, 1, 999_999));
    }

    [LibraryImport("libc")]
    private static partial int usleep(uint microseconds);
}
