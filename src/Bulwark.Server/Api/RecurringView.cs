using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Scheduling;

namespace Bulwark.Server.Api;

/// <summary>A recurring job as the API shows it.</summary>
internal sealed record RecurringView(
    string Name, string Cron, string TimeZone, string Queue, string Type, JsonElement? Payload, int Priority, int MaxAttempts,
    string Timeout, string Backoff, string Misfire, DateTimeOffset NextTick, DateTimeOffset? LastTick, long? LastJobId)
{
    public static RecurringView From(RecurringJob r) => new(
        r.Name, r.Cron, r.TimeZone, r.Queue, r.Type, ApiJson.Raw(r.Payload), r.Priority, r.MaxAttempts,
        DurationText.Format(r.Timeout), r.Backoff.ToString(), r.Misfire.ToName(), r.NextTick, r.LastTick, r.LastJobId);

}
