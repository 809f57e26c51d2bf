using System.Text.RegularExpressions;
using Bulwark.Jobs;

namespace Bulwark.Scheduling;

/// <summary>
/// A recurring job: a cron schedule (with seconds, in a time zone) and the job to enqueue at each tick. Stored by an
/// <see cref="IRecurringJobStore"/>; <see cref="RecurringScheduler"/> enqueues exactly one job per tick across the fleet.
/// </summary>
public sealed partial record RecurringJob
{
    /// <summary>Longest name accepted.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Unique name: letters, digits and <c>. _ : -</c>.</summary>
    public required string Name { get; init; }
    /// <summary>Cron expression: six fields with seconds (<c>0 0 2 * * *</c>), five without (<c>0 2 * * *</c>), or a macro (<c>@daily</c>).</summary>
    public required string Cron { get; init; }
    /// <summary>IANA or Windows time zone id the expression is read in (default <c>UTC</c>); daylight-saving gaps and overlaps follow Cronos.</summary>
    public string TimeZone { get; init; } = "UTC";
    /// <summary>The queue each job goes to.</summary>
    public required string Queue { get; init; }
    /// <summary>The handler name.</summary>
    public required string Type { get; init; }
    /// <summary>The payload, JSON text.</summary>
    public string Payload { get; init; } = "null";
    /// <summary>Higher runs first.</summary>
    public int Priority { get; init; }
    /// <summary>Attempts allowed for each enqueued job.</summary>
    public int MaxAttempts { get; init; } = JobDefaults.MaxAttempts;
    /// <summary>Execution timeout of one attempt.</summary>
    public TimeSpan Timeout { get; init; } = JobDefaults.Timeout;
    /// <summary>Delay policy between attempts.</summary>
    public BackoffPolicy Backoff { get; init; } = BackoffPolicy.Default;
    /// <summary>What to do about ticks missed while no scheduler ran.</summary>
    public MisfirePolicy Misfire { get; init; } = MisfirePolicy.Skip;
    /// <summary>The next tick to enqueue (set by the scheduler and the store).</summary>
    public DateTimeOffset NextTick { get; init; }
    /// <summary>The last tick that was claimed (enqueued or skipped), if any.</summary>
    public DateTimeOffset? LastTick { get; init; }
    /// <summary>The job enqueued for the last enqueued tick, if any.</summary>
    public long? LastJobId { get; init; }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    /// <summary>Throws a <see cref="JobValidationException"/> naming what to change unless <paramref name="name"/> is usable.</summary>
    public static string ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !NameRegex().IsMatch(name))
        {
            throw new JobValidationException("name", $"'{name}' is not a valid recurring job name: use 1–{MaxNameLength} letters, digits and . _ : -, starting with a letter or digit (such as 'nightly-report').");
        }

        return name;
    }

    /// <summary>Checks every field (name, cron, time zone, queue, type, payload, attempts, timeout); returns this job or throws a <see cref="JobValidationException"/>.</summary>
    public RecurringJob Validate()
    {
        ValidateName(Name);
        CronSchedule.Parse(Cron, TimeZone);
        // The job template must be enqueueable: validate it as the job it will become.
        JobValidator.Validate(ToNewJob(DateTimeOffset.UnixEpoch));
        return this;
    }

    /// <summary>The job to enqueue for <paramref name="tick"/>. Its key <c>cron:&lt;name&gt;:&lt;unix ms&gt;</c> names the tick.</summary>
    public NewJob ToNewJob(DateTimeOffset tick) => new()
    {
        Queue = Queue,
        Type = Type,
        Payload = Payload,
        Priority = Priority,
        MaxAttempts = MaxAttempts,
        Timeout = Timeout,
        Backoff = Backoff,
        Key = $"cron:{Name}:{tick.ToUnixTimeMilliseconds()}",
    };
}
