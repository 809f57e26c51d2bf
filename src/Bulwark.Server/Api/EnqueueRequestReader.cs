using System.Text.Json;
using Bulwark.Client;
using Bulwark.Jobs;

namespace Bulwark.Server.Api;

/// <summary>
/// Reads the body of <c>POST /jobs</c> (one job, or <c>{"jobs":[…]}</c>) into validated <see cref="NewJob"/>s, through
/// <see cref="JobClient.Build"/> so the rules are the library's. Each refusal names the field and, in a batch, the entry.
/// </summary>
internal static class EnqueueRequestReader
{
    private static readonly string[] Fields =
        ["queue", "type", "payload", "priority", "delay", "run_at", "max_attempts", "timeout", "backoff", "key", "depends_on", "expires_at", "lifetime", "trace_parent"];

    public static IReadOnlyList<NewJob> Read(JsonElement body, JobClient client, string? traceParent)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw ApiProblemException.BadRequest($"The body must be a JSON object (one job, or {{\"jobs\": [...]}} for many), not {Describe(body.ValueKind)}.");
        }

        if (body.TryGetProperty("jobs", out var list))
        {
            if (body.EnumerateObject().Count() != 1)
            {
                throw ApiProblemException.BadRequest("A batch body holds only \"jobs\": put every other field inside each job.");
            }

            if (list.ValueKind != JsonValueKind.Array)
            {
                throw ApiProblemException.BadRequest($"\"jobs\" must be an array of job objects, not {Describe(list.ValueKind)}.");
            }

            var jobs = new List<NewJob>();
            var index = 0;
            foreach (var item in list.EnumerateArray())
            {
                jobs.Add(ReadOne(item, client, traceParent, $"jobs[{index}]: "));
                index++;
            }

            if (jobs.Count == 0)
            {
                throw ApiProblemException.BadRequest("\"jobs\" is empty; give at least one job.");
            }

            return jobs;
        }

        return [ReadOne(body, client, traceParent, "")];
    }

    private static NewJob ReadOne(JsonElement job, JobClient client, string? traceParent, string where)
    {
        if (job.ValueKind != JsonValueKind.Object)
        {
            throw ApiProblemException.BadRequest($"{where}a job must be a JSON object, not {Describe(job.ValueKind)}.");
        }

        foreach (var property in job.EnumerateObject())
        {
            if (!Fields.Contains(property.Name, StringComparer.Ordinal))
            {
                throw ApiProblemException.BadRequest($"{where}unknown field \"{JsonJobValues.Shorten(property.Name)}\"; the fields of a job are: {string.Join(", ", Fields)}.");
            }
        }

        try
        {
            var queue = String(job, "queue", where) ?? "default";
            var type = String(job, "type", where)
                ?? throw ApiProblemException.BadRequest($"{where}\"type\" is missing; give the handler name, such as \"email.send\" or \"demo.noop\".");
            // No payload means an empty object, as in the CLI: handlers bind it to their payload type's defaults.
            var payload = job.TryGetProperty("payload", out var p) ? p.GetRawText() : "{}";
            var delay = Duration(job, "delay", where);
            var runAt = Moment(job, "run_at", where);
            if (delay is not null && runAt is not null)
            {
                throw ApiProblemException.BadRequest($"{where}give either \"delay\" or \"run_at\", not both.");
            }

            var expiresAt = Moment(job, "expires_at", where);
            var lifetime = Duration(job, "lifetime", where);
            if (expiresAt is not null && lifetime is not null)
            {
                throw ApiProblemException.BadRequest($"{where}give either \"expires_at\" or \"lifetime\", not both.");
            }

            var priority = Int(job, "priority", where);
            var maxAttempts = Int(job, "max_attempts", where);
            var timeout = Duration(job, "timeout", where);
            var backoffText = String(job, "backoff", where);
            var backoff = backoffText is null ? null : Backoff(backoffText);
            var key = String(job, "key", where);
            var dependsOn = Ids(job, "depends_on", where);
            var trace = String(job, "trace_parent", where) ?? traceParent;

            var fields = new JobFieldOptions(priority, delay, runAt, maxAttempts, timeout, backoff, key, expiresAt, lifetime);
            var built = client.Build(queue, type, payload, o =>
            {
                fields.ApplyTo(o);
                if (dependsOn.Length > 0) { o.DependsOn(dependsOn); }
            });
            return trace is null ? built : JobValidator.Validate(built with { TraceParent = trace });
        }
        catch (JobValidationException ex) when (where.Length > 0)
        {
            throw new JobValidationException(ex.Field, where + ex.Reason, ex.Kind);
        }
    }

    private static BackoffPolicy Backoff(string text)
    {
        try
        {
            return BackoffPolicy.Parse(text);
        }
        catch (JobValidationException ex)
        {
            throw new JobValidationException("backoff", $"\"backoff\" is not a backoff policy ({ex.Reason}); use exponential(1s,1h,0.2), fixed(5s) or a list like 1s,5s,30s.");
        }
    }

    private static string? String(JsonElement job, string name, string where)
    {
        if (!JsonJobValues.TryGet(job, name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw ApiProblemException.BadRequest($"{where}\"{name}\" must be a string, not {Describe(value.ValueKind)}.");
    }

    private static int? Int(JsonElement job, string name, string where)
    {
        if (!JsonJobValues.TryGet(job, name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n)
            ? n
            : throw ApiProblemException.BadRequest($"{where}\"{name}\" must be a whole number between {int.MinValue} and {int.MaxValue}, not {Show(value)}.");
    }

    private static TimeSpan? Duration(JsonElement job, string name, string where)
    {
        if (!JsonJobValues.TryGet(job, name, out var value))
        {
            return null;
        }

        return JsonJobValues.TryDuration(value, out var duration)
            ? duration
            : throw ApiProblemException.BadRequest($"{where}\"{name}\" must be a duration such as \"250ms\", \"5s\", \"30m\", \"2h\" or \"1h30m\" (or a number of seconds), not {Show(value)}.");
    }

    private static DateTimeOffset? Moment(JsonElement job, string name, string where)
    {
        if (!JsonJobValues.TryGet(job, name, out var value))
        {
            return null;
        }

        return JsonJobValues.TryMoment(value, out var moment)
            ? moment
            : throw ApiProblemException.BadRequest($"{where}\"{name}\" must be an ISO 8601 time such as \"2026-01-31T09:00:00Z\", not {Show(value)}.");
    }

    private static long[] Ids(JsonElement job, string name, string where)
    {
        if (!JsonJobValues.TryGet(job, name, out var value))
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw ApiProblemException.BadRequest($"{where}\"{name}\" must be an array of job ids, such as [12, 15], not {Show(value)}.");
        }

        return value.EnumerateArray().Select(id => id.ValueKind == JsonValueKind.Number && id.TryGetInt64(out var n) && n > 0
            ? n
            : throw ApiProblemException.BadRequest($"{where}\"{name}\" holds {Show(id)}, which is not a job id; ids are positive whole numbers.")).ToArray();
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "an object",
    };

    private static string Show(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object or JsonValueKind.Array => Describe(value.ValueKind),
        _ => JsonJobValues.Shorten(value.GetRawText()),
    };
}
