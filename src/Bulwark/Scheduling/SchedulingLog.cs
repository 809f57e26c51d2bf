using Microsoft.Extensions.Logging;

namespace Bulwark.Scheduling;

/// <summary>Log events of the scheduler (event ids 6000–6099).</summary>
internal static partial class SchedulingLog
{
    [LoggerMessage(6001, LogLevel.Information, "Recurring job {Name}: enqueued job {JobId} for tick {Tick:O}")]
    internal static partial void Enqueued(ILogger logger, string name, DateTimeOffset tick, long jobId);

    [LoggerMessage(6002, LogLevel.Warning, "Recurring job {Name}: skipped missed tick {Tick:O} (misfire policy Skip)")]
    internal static partial void Skipped(ILogger logger, string name, DateTimeOffset tick);

    [LoggerMessage(6003, LogLevel.Warning, "Recurring job {Name} cannot be scheduled on this machine: {Reason}")]
    internal static partial void Unreadable(ILogger logger, string name, string reason);

    [LoggerMessage(6004, LogLevel.Error, "A recurring scheduler pass failed; the next pass retries")]
    internal static partial void PassFailed(ILogger logger, Exception error);
}
