using Microsoft.Extensions.Logging;

namespace Bulwark.Server;

/// <summary>Every log event of the server, with fixed ids. None carries a key, payload or connection string.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "No API keys configured: listening on loopback only. Bulwark's API, dashboard and detailed health answer callers on this machine only. {HowToOpen}")]
    public static partial void NoKeysLoopbackOnly(ILogger logger, string howToOpen);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "The app listens on {Address}, beyond loopback, with no API keys or authorization policy: Bulwark's endpoints refuse remote callers with 403 (the rest of the app is untouched). {HowToOpen}")]
    public static partial void ListeningBeyondLoopback(ILogger logger, string address, string howToOpen);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Store operation {Operation} failed ({ErrorType}); answered 503.")]
    public static partial void StoreFailed(ILogger logger, string operation, string errorType);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Queue {Queue} is full ({Depth} of hard limit {Limit}); enqueue refused with 429.")]
    public static partial void QueueFull(ILogger logger, string queue, long depth, long limit);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Queue {Queue} depth {Depth} is above its warning depth {Warning}.")]
    public static partial void QueueDeep(ILogger logger, string queue, long depth, long warning);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Queue depth sampling failed ({ErrorType}).")]
    public static partial void SamplingFailed(ILogger logger, string errorType);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Storage circuit is {State}.")]
    public static partial void StorageCircuitState(ILogger logger, string state);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information, Message = "API key auth on: {ReadKeys} read key(s), {AdminKeys} admin key(s).")]
    public static partial void KeysConfigured(ILogger logger, int readKeys, int adminKeys);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Information, Message = "Authorization policies on Bulwark's endpoints: admin {AdminPolicy}, read {ReadPolicy}.")]
    public static partial void PoliciesConfigured(ILogger logger, string adminPolicy, string readPolicy);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "Refused {Method} {Path} from {Remote}: no API keys or authorization policy are configured, so Bulwark's endpoints answer loopback callers only.")]
    public static partial void RefusedRemote(ILogger logger, string method, string path, string? remote);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "Circuit breaker of job type {Type} opened by hand for the fleet (since {Since}); every worker stops leasing it within one poll.")]
    public static partial void CircuitOpenedByHand(ILogger logger, string type, DateTimeOffset since);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "Circuit breaker of job type {Type} closed by hand for the fleet; workers lease it again within one poll.")]
    public static partial void CircuitClosedByHand(ILogger logger, string type);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Information, Message = "Policy of queue {Queue} set for the fleet: {Policy}; jobs enqueued from now on that do not set their own take it.")]
    public static partial void QueuePolicySet(ILogger logger, string queue, string policy);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Information, Message = "Admin action {Action} on {Target}: {Outcome}.")]
    public static partial void AdminAction(ILogger logger, string action, string target, string outcome);
}
