using System.Globalization;
using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Scheduling;

namespace Bulwark.Server.Api;

/// <summary>Reads the body of <c>PUT /recurring/{name}</c> into a validated <see cref="RecurringJob"/>; each refusal names the field.</summary>
internal static class RecurringRequestReader
{
    private static readonly string[] Fields =
        ["cron", "time_zone", "queue", "type", "payload", "priority", "max_attempts", "timeout", "backoff", "misfire"];

    private const string Example = """{"cron":"0 0 2 * * *","time_zone":"Europe/Paris","queue":"reports","type":"report.build"}""";

    public static RecurringJob Read(string name, JsonElement body)
    {
        RecurringJob.ValidateName(name);
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new JobValidationException("body", $"A recurring job is a JSON object, such as {Example}.");
        }

        foreach (var property in body.EnumerateObject())
        {
            if (!Fields.Contains(property.Name, StringComparer.Ordinal))
            {
                throw new JobValidationException(property.Name, $"Unknown field \"{property.Name}\"; the fields of a recurring job are: {string.Join(", ", Fields)} (the name is in the path).");
            }
        }

        var job = new RecurringJob
        {
            Name = name,
            Cron = String(body, "cron") ?? throw new JobValidationException("cron", $"\"cron\" is missing; write six fields with seconds, such as \"0 0 2 * * *\" (02:00:00 every day). Example: {Example}."),
            TimeZone = String(body, "time_zone") ?? "UTC",
            Queue = String(body, "queue") ?? "default",
            Type = String(body, "type") ?? throw new JobValidationException("type", "\"type\" is missing; give the handler name, such as \"report.build\"."),
            Payload = body.TryGetProperty("payload", out var payload) ? payload.GetRawText() : "{}",
            Priority = Int(body, "priority") ?? 0,
            MaxAttempts = Int(body, "max_attempts") ?? JobDefaults.MaxAttempts,
            Timeout = String(body, "timeout") is { } timeout ? Duration(timeout) : JobDefaults.Timeout,
            Backoff = String(body, "backoff") is { } backoff ? BackoffPolicy.Parse(backoff) : BackoffPolicy.Default,
            Misfire = MisfirePolicies.Parse(String(body, "misfire")),
        };
        return job.Validate();
    }

    private static TimeSpan Duration(string text) =>
        DurationText.TryParse(text, out var value) && value > TimeSpan.Zero
            ? value
            : throw new JobValidationException("timeout", $"\"timeout\" must be a positive duration such as \"30s\" or \"10m\", not \"{text}\".");

    private static string? String(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new JobValidationException(name, $"\"{name}\" must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}.");
    }

    private static int? Int(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n)
            ? n
            : throw new JobValidationException(name, $"\"{name}\" must be a whole number, not {value.GetRawText().ToString(CultureInfo.InvariantCulture)}.");
    }
}
