using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Api;

/// <summary>
/// The operator's queue-policy action, written once: the API, the dashboard and the CLI's store back-end all call it. The
/// policy goes to the store, so every process's next enqueue to the queue takes it.
/// </summary>
public static class QueuePolicyActions
{
    /// <summary>The fields of a queue's policy, as the API names them.</summary>
    public static IReadOnlyList<string> Fields { get; } = ["max_attempts", "backoff", "timeout", "retention"];

    /// <summary>Applies <paramref name="change"/> to the queue's stored policy, validates and stores the result (logged); returns it.</summary>
    public static async Task<QueuePolicy> ChangeAsync(IQueuePolicyStore store, string queue, Func<QueuePolicy, QueuePolicy> change, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(change);
        JobValidator.ValidateQueue(queue);
        var current = (await store.GetQueuePoliciesAsync(cancellationToken)).GetValueOrDefault(queue) ?? QueuePolicy.None;
        var policy = change(current).Validate();
        await store.SetQueuePolicyAsync(queue, policy, cancellationToken);
        ServerLog.QueuePolicySet(logger, queue, Describe(policy));
        return policy;
    }

    /// <summary>The queue's stored policy (<see cref="QueuePolicy.None"/> when it has none).</summary>
    public static async Task<QueuePolicy> GetAsync(IQueuePolicyStore store, string queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        JobValidator.ValidateQueue(queue);
        return (await store.GetQueuePoliciesAsync(cancellationToken)).GetValueOrDefault(queue) ?? QueuePolicy.None;
    }

    /// <summary>
    /// Reads the body of <c>PUT /queues/{q}/policy</c> as a change: a field left out is kept, <c>null</c> clears it. Each bad
    /// field is refused with a <see cref="JobValidationException"/> naming it.
    /// </summary>
    public static Func<QueuePolicy, QueuePolicy> ReadChange(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.EnumerateObject().Any())
        {
            throw new JobValidationException("policy", "Send {\"max_attempts\": 2, \"backoff\": \"fixed(5s)\", \"timeout\": \"30s\", \"retention\": \"3d\"}: any of the fields (null clears one).");
        }

        var steps = new List<Func<QueuePolicy, QueuePolicy>>();
        foreach (var property in body.EnumerateObject())
        {
            var value = property.Value;
            var clear = value.ValueKind == JsonValueKind.Null;
            switch (property.Name)
            {
                case "max_attempts":
                    int? attempts = clear ? null
                        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n
                        : throw new JobValidationException("max_attempts", $"\"max_attempts\" must be a whole number of attempts (such as 2), or null to clear it; not {value.GetRawText()}.");
                    steps.Add(p => p with { MaxAttempts = attempts });
                    break;
                case "backoff":
                    var backoff = clear ? null : BackoffPolicy.Parse(Text(value, "backoff", "exponential(1s,1h,0.2), fixed(5s) or 1s,5s,30s"));
                    steps.Add(p => p with { Backoff = backoff });
                    break;
                case "timeout":
                    var timeout = clear ? (TimeSpan?)null : DurationText.Parse(Text(value, "timeout", "30s or 5m"), "timeout");
                    steps.Add(p => p with { Timeout = timeout });
                    break;
                case "retention":
                    var retention = clear ? (TimeSpan?)null : DurationText.Parse(Text(value, "retention", "24h or 7d"), "retention");
                    steps.Add(p => p with { Retention = retention });
                    break;
                default:
                    throw new JobValidationException(property.Name, $"Unknown field \"{JsonJobValues.Shorten(property.Name)}\"; a queue's policy has {string.Join(", ", Fields)}.");
            }
        }

        return current => steps.Aggregate(current, (p, step) => step(p));
    }

    /// <summary>The API's (and the CLI's <c>--json</c>) shape of a queue's policy; fields it does not set are left out.</summary>
    public static IReadOnlyDictionary<string, object> View(string queue, QueuePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        // Built field by field so that every serializer (the API's, the CLI's) leaves out the same unset fields.
        var view = new Dictionary<string, object>(StringComparer.Ordinal) { ["queue"] = queue };
        if (policy.MaxAttempts is { } m) { view["max_attempts"] = m; }
        if (policy.Backoff is { } b) { view["backoff"] = b.ToString(); }
        if (policy.Timeout is { } t) { view["timeout"] = DurationText.Format(t); }
        if (policy.Retention is { } r) { view["retention"] = DurationText.Format(r); }
        return view;
    }

    /// <summary>One line for logs and messages: <c>max_attempts 2, timeout 30s</c>, or <c>none</c>.</summary>
    public static string Describe(QueuePolicy policy)
    {
        var parts = new List<string>();
        if (policy.MaxAttempts is { } m) { parts.Add($"max_attempts {m}"); }
        if (policy.Backoff is { } b) { parts.Add($"backoff {b}"); }
        if (policy.Timeout is { } t) { parts.Add($"timeout {DurationText.Format(t)}"); }
        if (policy.Retention is { } r) { parts.Add($"retention {DurationText.Format(r)}"); }
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    private static string Text(JsonElement value, string field, string example) => value.ValueKind == JsonValueKind.String
        ? value.GetString()!
        : throw new JobValidationException(field, $"\"{field}\" must be a string such as {example}, or null to clear it; not {value.GetRawText()}.");
}
