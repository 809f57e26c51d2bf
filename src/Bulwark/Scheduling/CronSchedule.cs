using Bulwark.Jobs;
using Cronos;

namespace Bulwark.Scheduling;

/// <summary>A parsed cron expression in its time zone.</summary>
internal sealed class CronSchedule
{
    private readonly CronExpression _expression;
    private readonly TimeZoneInfo _zone;

    private CronSchedule(CronExpression expression, TimeZoneInfo zone)
    {
        _expression = expression;
        _zone = zone;
    }

    /// <summary>Parses six fields (with seconds), five (minute first) or a macro; throws a <see cref="JobValidationException"/> naming the problem.</summary>
    internal static CronSchedule Parse(string? cron, string? timeZone)
    {
        if (string.IsNullOrWhiteSpace(cron))
        {
            throw new JobValidationException("cron", "The cron expression is missing; write six fields with seconds, such as '0 0 2 * * *' (02:00:00 every day).");
        }

        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        CronExpression expression;
        try
        {
            expression = CronExpression.Parse(cron.Trim(), fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            throw new JobValidationException("cron", $"'{cron}' is not a valid cron expression ({ex.Message}); write six fields 'second minute hour day-of-month month day-of-week', such as '0 */5 * * * *'.");
        }

        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(string.IsNullOrWhiteSpace(timeZone) ? "UTC" : timeZone);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new JobValidationException("time_zone", $"'{timeZone}' is not a time zone known to this machine; use an IANA id such as 'Europe/Paris' or 'UTC'.");
        }

        return new CronSchedule(expression, zone);
    }

    /// <summary>The first tick strictly after <paramref name="from"/>, or null when the expression never fires again.</summary>
    internal DateTimeOffset? NextAfter(DateTimeOffset from) => _expression.GetNextOccurrence(from, _zone, inclusive: false);

    /// <summary>The last tick at or before <paramref name="now"/>, starting the walk at the due tick <paramref name="due"/> (≤ now).</summary>
    internal DateTimeOffset LatestDue(DateTimeOffset due, DateTimeOffset now)
    {
        var latest = due;
        // The walk is bounded: after a long outage of a per-second schedule, jump close to now and walk the last stretch.
        if (now - due > TimeSpan.FromDays(1))
        {
            latest = _expression.GetNextOccurrence(now - TimeSpan.FromDays(1), _zone, inclusive: true) is { } near && near <= now ? near : due;
        }

        while (_expression.GetNextOccurrence(latest, _zone, inclusive: false) is { } next && next <= now)
        {
            latest = next;
        }

        return latest;
    }
}
