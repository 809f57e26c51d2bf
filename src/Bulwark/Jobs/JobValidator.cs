using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Bulwark.Jobs;

/// <summary>
/// Checks jobs before persistence. Every refusal is a <see cref="JobValidationException"/> whose message
/// says what was wrong and what to write instead; nothing is stored for a refused job (or batch).
/// </summary>
public static partial class JobValidator
{
    /// <summary>The pattern a queue name must match.</summary>
    public const string QueuePattern = "[a-z0-9][a-z0-9._:-]{0,63}";

    /// <summary>Longest handler name accepted.</summary>
    public const int MaxTypeLength = 200;

    /// <summary>Longest idempotency key accepted.</summary>
    public const int MaxKeyLength = 256;

    /// <summary>Most attempts a job may ask for.</summary>
    public const int MaxAttemptsLimit = 1000;

    /// <summary>Longest execution timeout a job may ask for.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(7);

    [GeneratedRegex("^" + QueuePattern + "$", RegexOptions.CultureInvariant)]
    private static partial Regex QueueRegex();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:/+-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex TypeRegex();

    /// <summary>Throws unless <paramref name="queue"/> is a valid queue name.</summary>
    public static string ValidateQueue(string? queue)
    {
        if (string.IsNullOrEmpty(queue))
        {
            throw new JobValidationException("queue", "The queue name is missing; name a queue such as 'default' or 'email'.");
        }

        if (!QueueRegex().IsMatch(queue))
        {
            throw new JobValidationException("queue", $"'{Shorten(queue)}' is not a valid queue name: use 1–64 characters of a-z, 0-9, '.', '_', ':' or '-', starting with a letter or digit (pattern {QueuePattern}).");
        }

        return queue;
    }

    /// <summary>Throws unless <paramref name="type"/> is a valid handler name.</summary>
    public static string ValidateType(string? type)
    {
        if (string.IsNullOrEmpty(type))
        {
            throw new JobValidationException("type", "The job type is missing; give the handler name, such as 'email.send'.");
        }

        if (type.Length > MaxTypeLength || !TypeRegex().IsMatch(type))
        {
            throw new JobValidationException("type", $"'{Shorten(type)}' is not a valid job type: use up to {MaxTypeLength} letters, digits and . _ : / + -, starting with a letter or digit.");
        }

        return type;
    }

    /// <summary>Throws unless <paramref name="payload"/> is one JSON value of at most <paramref name="maxBytes"/> UTF-8 bytes.</summary>
    public static string ValidatePayload(string? payload, int maxBytes = JobDefaults.MaxPayloadBytes)
    {
        if (payload is null)
        {
            return "null";
        }

        // Checking the length first refuses a huge payload without parsing it.
        var bytes = Encoding.UTF8.GetByteCount(payload);
        if (bytes > maxBytes)
        {
            throw new JobValidationException("payload", $"The payload is {bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes, over the limit of {maxBytes.ToString("N0", CultureInfo.InvariantCulture)}; store large data elsewhere and pass a reference.", JobValidationKind.TooLarge);
        }

        try
        {
            using var document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new JobValidationException("payload", $"The payload is not valid JSON: {ex.Message}");
        }

        return payload;
    }

    /// <summary>Validates every field of <paramref name="job"/>; <paramref name="index"/> is its place in a batch (for batch indexes and messages).</summary>
    public static NewJob Validate(NewJob job, int maxPayloadBytes = JobDefaults.MaxPayloadBytes, int index = 0)
    {
        ArgumentNullException.ThrowIfNull(job);
        ValidateQueue(job.Queue);
        ValidateType(job.Type);
        ValidatePayload(job.Payload, maxPayloadBytes);

        if (job.MaxAttempts is < 1 or > MaxAttemptsLimit)
        {
            throw new JobValidationException("max_attempts", $"max_attempts must be between 1 and {MaxAttemptsLimit} (got {job.MaxAttempts}); 1 means no retries.");
        }

        if (job.Timeout <= TimeSpan.Zero || job.Timeout > MaxTimeout)
        {
            throw new JobValidationException("timeout", $"The timeout must be positive and at most {DurationText.Format(MaxTimeout)} (got {DurationText.Format(job.Timeout.Duration())}{(job.Timeout < TimeSpan.Zero ? " negative" : "")}).");
        }

        ArgumentNullException.ThrowIfNull(job.Backoff);
        job.Backoff.Validated();

        if (job.Key is not null && (job.Key.Length == 0 || job.Key.Length > MaxKeyLength))
        {
            throw new JobValidationException("key", $"An idempotency key must be 1–{MaxKeyLength} characters (got {job.Key.Length}).");
        }

        // PostgreSQL text cannot hold a NUL character, and no store should keep other control characters in a key an
        // operator has to read and type: refuse them here for every store alike.
        if (job.Key is not null && job.Key.Any(char.IsControl))
        {
            throw new JobValidationException("key", "An idempotency key must not contain control characters (such as NUL or a line break); use printable text.");
        }

        foreach (var id in job.DependsOn)
        {
            if (id <= 0)
            {
                throw new JobValidationException("depends_on", $"depends_on holds {id}, which is not a job id; ids are positive numbers.");
            }
        }

        ValidateBatchIndexes(job, index);

        if (job.ExpiresAt is { } expires && job.RunAt is { } runAt && expires <= runAt)
        {
            throw new JobValidationException("expires_at", $"expires_at ({expires:O}) is not after run_at ({runAt:O}); the job could never run.");
        }

        if (job.TraceParent is { Length: > 512 })
        {
            throw new JobValidationException("trace_parent", "trace_parent is longer than 512 characters; pass a W3C traceparent header value.");
        }

        if (job.TraceParent is not null && job.TraceParent.Any(char.IsControl))
        {
            throw new JobValidationException("trace_parent", "trace_parent must not contain control characters (such as NUL); pass a W3C traceparent header value.");
        }

        job.MarkValidated(maxPayloadBytes);
        return job;
    }

    /// <summary>Validates a batch: each job, and that the batch is not empty.</summary>
    public static IReadOnlyList<NewJob> ValidateBatch(IReadOnlyList<NewJob> jobs, int maxPayloadBytes = JobDefaults.MaxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (jobs.Count == 0)
        {
            throw new JobValidationException("jobs", "The batch is empty; give at least one job.");
        }

        for (var i = 0; i < jobs.Count; i++)
        {
            try
            {
                // A job this instance already validated (JobClient.Build, then the client's batch, then the store) skips the
                // JSON parse and pattern matches; where it sits in this batch still has to be checked.
                if (jobs[i] is { } job && job.IsValidatedFor(maxPayloadBytes))
                {
                    ValidateBatchIndexes(job, i);
                }
                else
                {
                    Validate(jobs[i], maxPayloadBytes, i);
                }
            }
            catch (JobValidationException ex) when (jobs.Count > 1)
            {
                throw new JobValidationException(ex.Field, $"Job {i} of the batch: {ex.Reason}", ex.Kind);
            }
        }

        return jobs;
    }

    /// <summary>A copy of a job with the producer's trace context; a validated job stays validated (only the new field is checked).</summary>
    internal static NewJob WithTraceParent(NewJob job, string traceParent, int maxPayloadBytes)
    {
        var copy = job with { TraceParent = traceParent };
        if (job.IsValidatedFor(maxPayloadBytes) && traceParent.Length <= 512 && !traceParent.Any(char.IsControl))
        {
            copy.MarkValidated(maxPayloadBytes);
        }

        return copy;
    }

    private static void ValidateBatchIndexes(NewJob job, int index)
    {
        foreach (var parent in job.DependsOnBatchIndexes)
        {
            if (parent < 0 || parent >= index)
            {
                throw new JobValidationException("depends_on", $"Job {index} of the batch depends on batch entry {parent}, which is not an earlier entry of the batch.");
            }
        }
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : string.Concat(s.AsSpan(0, 77), "...");
}
