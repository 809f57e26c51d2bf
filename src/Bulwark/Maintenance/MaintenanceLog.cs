using Microsoft.Extensions.Logging;

namespace Bulwark.Maintenance;

/// <summary>Log events of maintenance (1100–1199).</summary>
internal static partial class MaintenanceLog
{
    [LoggerMessage(1100, LogLevel.Warning, "Reclaimed {Reclaimed} stalled jobs, quarantined {Poisoned} as poison, cancelled {Cancelled}; dead workers: {DeadWorkers}")]
    public static partial void Reclaimed(ILogger logger, int reclaimed, int poisoned, int cancelled, string deadWorkers);

    [LoggerMessage(1101, LogLevel.Information, "Expired {Count} jobs past their lifetime to dead letter")]
    public static partial void Expired(ILogger logger, int count);

    [LoggerMessage(1102, LogLevel.Information, "Purged {Count} finished jobs by retention")]
    public static partial void Purged(ILogger logger, int count);

    [LoggerMessage(1103, LogLevel.Warning, "Maintenance step {Step} failed; retried at the next pass")]
    public static partial void StepFailed(ILogger logger, Exception exception, string step);

    [LoggerMessage(1104, LogLevel.Debug, "Promoted {Count} due jobs")]
    public static partial void Promoted(ILogger logger, int count);

    [LoggerMessage(1106, LogLevel.Information, "Purged {Count} registrations of workers stopped or dead for longer than {Retention}")]
    public static partial void WorkersPurged(ILogger logger, int count, string retention);

    [LoggerMessage(1105, LogLevel.Debug, "Could not list the workers to time the next maintenance pass; it runs after the interval")]
    public static partial void WorkersUnreadable(ILogger logger, Exception exception);
}
