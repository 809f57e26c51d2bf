namespace Bulwark.GameDay.Load;

/// <summary>A job the API acknowledged: the generator's sequence number (the line it appends), the id and when.</summary>
internal sealed record Ack(long Seq, long Id, DateTimeOffset At);
