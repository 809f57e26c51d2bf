using Bulwark.Workers;

namespace Bulwark.Sample.Web;

/// <summary>Handles <c>email.send</c>. A real app would call its mail provider here; throwing makes Bulwark retry with backoff.</summary>
internal sealed partial class EmailSender(ILogger<EmailSender> logger) : IJobHandler<EmailMessage>
{
    public async Task<object?> HandleAsync(EmailMessage payload, JobContext context)
    {
        // Stands in for the provider's HTTP call; honours the job's token (timeout, cancellation, shutdown).
        await Task.Delay(TimeSpan.FromMilliseconds(20), context.CancellationToken);
        LogSent(logger, payload.To, payload.Subject, payload.OrderId);
        return new { sentTo = payload.To };
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Sent '{Subject}' to {To} (order {OrderId})")]
    private static partial void LogSent(ILogger logger, string to, string subject, long? orderId);
}
