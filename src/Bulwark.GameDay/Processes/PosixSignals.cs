using System.Runtime.InteropServices;

namespace Bulwark.GameDay.Processes;

/// <summary>Real signals through <c>kill(2)</c>: the game day injects what an orchestrator or the kernel would send.</summary>
internal static partial class PosixSignals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    // Linux numbering; macOS uses 17/19, which the game day does not need to support yet.
    public const int SigCont = 18;
    public const int SigStop = 19;

    public static void Send(int processId, int signal)
    {
        if (kill(processId, signal) != 0)
        {
            throw new InvalidOperationException($"kill({processId}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
