namespace Bulwark.Workers;

/// <summary>The payload could not be read as the handler's payload type: a permanent failure.</summary>
internal sealed class PayloadException(string message, Exception? inner) : Exception(message, inner);
