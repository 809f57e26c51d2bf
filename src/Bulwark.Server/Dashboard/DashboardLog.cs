using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Dashboard;

/// <summary>Dashboard log events (ids 4100–4199). Keys are never logged.</summary>
internal static partial class DashboardLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Warning, Message = "Dashboard sign-in refused from {RemoteAddress}: the key is not one this server knows")]
    public static partial void SignInRefused(ILogger logger, string? remoteAddress);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Dashboard sign-in from {RemoteAddress} with {Access} access")]
    public static partial void SignedIn(ILogger logger, string? remoteAddress, string access);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Dashboard refused {Method} {Path} from {RemoteAddress}: {Reason}")]
    public static partial void Refused(ILogger logger, string method, string path, string? remoteAddress, string reason);

    // 4103 was "Dashboard control …": controls are now logged once, by AdminActions (server event 3014).

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Dashboard throughput sample failed; the chart keeps its last values")]
    public static partial void SampleFailed(ILogger logger, Exception exception);
}
