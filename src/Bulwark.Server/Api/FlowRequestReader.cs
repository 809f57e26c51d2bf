using System.Text.Json;
using Bulwark.Flows;
using Bulwark.Jobs;

namespace Bulwark.Server.Api;

/// <summary>
/// Reads a flow, <c>{"nodes":[{"name","queue","type","payload","depends_on":[names],…}]}</c>, into a <see cref="FlowBuilder"/>
/// (the body of <c>POST /flows</c> and the file of <c>bulwark flow submit</c>). Every refusal is a
/// <see cref="JobValidationException"/> naming the node and the field; job fields are checked by the library when enqueued.
/// Public so that every front end reads the one format (the CLI validates flow files with it).
/// </summary>
public static class FlowRequestReader
{
    private static readonly string[] Fields =
        ["name", "queue", "type", "payload", "depends_on", "priority", "delay", "run_at", "max_attempts", "timeout", "backoff", "key", "expires_at", "lifetime"];

    private const string Example = """{"nodes":[{"name":"extract","type":"doc.extract"},{"name":"ocr","type":"doc.ocr","depends_on":["extract"]}]}""";

    /// <summary>The flow in <paramref name="body"/>; throws <see cref="JobValidationException"/> naming the node and field at fault.</summary>
    public static FlowBuilder Read(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("nodes", out var nodes))
        {
            throw new JobValidationException("flow", $"A flow is a JSON object with \"nodes\", such as {Example}.");
        }

        if (body.EnumerateObject().Count() != 1)
        {
            throw new JobValidationException("flow", "A flow body holds only \"nodes\": put every other field inside each node.");
        }

        if (nodes.ValueKind != JsonValueKind.Array || nodes.GetArrayLength() == 0)
        {
            throw new JobValidationException("flow", $"\"nodes\" must be a non-empty array of nodes, such as {Example}.");
        }

        if (nodes.GetArrayLength() > FlowBuilder.MaxNodes)
        {
            throw new JobValidationException("flow", $"A flow holds at most {FlowBuilder.MaxNodes} nodes (got {nodes.GetArrayLength()}); split the work into several flows.");
        }

        var flow = new FlowBuilder();
        var index = 0;
        foreach (var node in nodes.EnumerateArray())
        {
            AddNode(flow, node, $"nodes[{index}]");
            index++;
        }

        // Unknown names and cycles are refused here, before anything reaches a store.
        flow.TopologicalOrder();
        return flow;
    }

    private static void AddNode(FlowBuilder flow, JsonElement node, string where)
    {
        if (node.ValueKind != JsonValueKind.Object)
        {
            throw new JobValidationException("nodes", $"{where} must be a JSON object with at least \"name\" and \"type\".");
        }

        foreach (var property in node.EnumerateObject())
        {
            if (!Fields.Contains(property.Name, StringComparer.Ordinal))
            {
                throw new JobValidationException(property.Name, $"{where}: unknown field \"{JsonJobValues.Shorten(property.Name)}\"; the fields of a flow node are: {string.Join(", ", Fields)}.");
            }
        }

        var name = String(node, "name", where) ?? throw new JobValidationException("name", $"{where}: \"name\" is missing; name every node (such as \"extract\") so others can depend on it.");
        where = $"Node '{name}'";
        var queue = String(node, "queue", where) ?? "default";
        var type = String(node, "type", where) ?? throw new JobValidationException("type", $"{where}: \"type\" is missing; give the handler name, such as \"doc.extract\".");
        var payload = node.TryGetProperty("payload", out var p) ? p.GetRawText() : "{}";
        var dependsOn = Names(node, "depends_on", where);
        var priority = Int(node, "priority", where);
        var delay = Duration(node, "delay", where);
        var runAt = Moment(node, "run_at", where);
        var maxAttempts = Int(node, "max_attempts", where);
        var timeout = Duration(node, "timeout", where);
        var backoff = String(node, "backoff", where) is { } text ? Backoff(text, where) : null;
        var key = String(node, "key", where);
        var expiresAt = Moment(node, "expires_at", where);
        var lifetime = Duration(node, "lifetime", where);
        if (delay is not null && runAt is not null)
        {
            throw new JobValidationException("delay", $"{where}: give either \"delay\" or \"run_at\", not both.");
        }

        if (expiresAt is not null && lifetime is not null)
        {
            throw new JobValidationException("expires_at", $"{where}: give either \"expires_at\" or \"lifetime\", not both.");
        }

        flow.AddJson(name, queue, type, payload, dependsOn, new JobFieldOptions(priority, delay, runAt, maxAttempts, timeout, backoff, key, expiresAt, lifetime).ApplyTo);
    }

    private static BackoffPolicy Backoff(string text, string where)
    {
        try
        {
            return BackoffPolicy.Parse(text);
        }
        catch (JobValidationException ex)
        {
            throw new JobValidationException("backoff", $"{where}: \"backoff\" is not a backoff policy ({ex.Reason}); use exponential(1s,1h,0.2), fixed(5s) or a list like 1s,5s,30s.");
        }
    }

    private static string? String(JsonElement node, string name, string where)
    {
        if (!JsonJobValues.TryGet(node, name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new JobValidationException(name, $"{where}: \"{name}\" must be a string, not {Show(value)}.");
    }

    private static int? Int(JsonElement node, string name, string where)
    {
        if (!JsonJobValues.TryGet(node, name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n)
            ? n
            : throw new JobValidationException(name, $"{where}: \"{name}\" must be a whole number, not {Show(value)}.");
    }

    private static TimeSpan? Duration(JsonElement node, string name, string where)
    {
        if (!JsonJobValues.TryGet(node, name, out var value))
        {
            return null;
        }

        return JsonJobValues.TryDuration(value, out var duration)
            ? duration
            : throw new JobValidationException(name, $"{where}: \"{name}\" must be a duration such as \"250ms\", \"5s\", \"30m\" or \"2h\" (or a number of seconds), not {Show(value)}.");
    }

    private static DateTimeOffset? Moment(JsonElement node, string name, string where)
    {
        if (!JsonJobValues.TryGet(node, name, out var value))
        {
            return null;
        }

        return JsonJobValues.TryMoment(value, out var moment)
            ? moment
            : throw new JobValidationException(name, $"{where}: \"{name}\" must be an ISO 8601 time such as \"2026-01-31T09:00:00Z\", not {Show(value)}.");
    }

    private static string[] Names(JsonElement node, string name, string where)
    {
        if (!JsonJobValues.TryGet(node, name, out var value))
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new JobValidationException(name, $"{where}: \"{name}\" must be an array of node names of this flow, such as [\"extract\"], not {Show(value)}.");
        }

        return value.EnumerateArray().Select(n => n.ValueKind == JsonValueKind.String && n.GetString() is { Length: > 0 } parent
            ? parent
            : throw new JobValidationException(name, $"{where}: \"{name}\" holds {Show(n)}, which is not a node name; list the names of nodes of this flow (to wait for an existing job, enqueue it with POST /jobs and depends_on ids).")).ToArray();
    }

    private static string Show(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => JsonJobValues.Shorten(value.GetRawText()),
    };
}
