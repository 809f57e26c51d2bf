using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Bulwark.GameDay.Api;

/// <summary>The harness's view of the system under test: the public HTTP API and probes of one <c>bulwark serve</c>.</summary>
internal sealed class BulwarkApi(HttpClient http) : IDisposable
{
    public Uri BaseAddress => http.BaseAddress!;

    public async Task<ApiAnswer> PostJsonAsync(string path, string json, CancellationToken cancellationToken)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(path, content, cancellationToken);
        return await AnswerAsync(response, cancellationToken);
    }

    public async Task<ApiAnswer> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        return await AnswerAsync(response, cancellationToken);
    }

    /// <summary>Enqueues one job; the id when the server acknowledged it (201/200).</summary>
    public async Task<(ApiAnswer Answer, long? Id)> EnqueueAsync(object job, CancellationToken cancellationToken)
    {
        var answer = await PostJsonAsync("api/v1/jobs", JsonSerializer.Serialize(job), cancellationToken);
        if (!answer.Succeeded)
        {
            return (answer, null);
        }

        using var document = JsonDocument.Parse(answer.Body);
        return (answer, document.RootElement.GetProperty("id").GetInt64());
    }

    public async Task<JobDetail> GetJobAsync(long id, CancellationToken cancellationToken)
    {
        var answer = await GetAsync($"api/v1/jobs/{id}", cancellationToken);
        Require(answer, $"GET /jobs/{id}");
        using var document = JsonDocument.Parse(answer.Body);
        var root = document.RootElement;
        var errors = root.TryGetProperty("errors", out var list)
            ? list.EnumerateArray().Select(e => new JobErrorRow(
                e.GetProperty("attempt").GetInt32(), Text(e, "worker_id"), Moment(e, "started_at"), Moment(e, "ended_at") ?? default,
                Text(e, "category") ?? "", Text(e, "message") ?? "", Text(e, "stack_trace"), Text(e, "exception_type"))).ToArray()
            : [];
        return new JobDetail(Row(root), errors,
            root.TryGetProperty("lease_epoch", out var epoch) ? epoch.GetInt64() : 0,
            root.TryGetProperty("result", out var result) ? result.GetRawText() : null,
            root.TryGetProperty("cancel_requested", out var cancel) && cancel.ValueKind == JsonValueKind.True);
    }

    /// <summary>
    /// Every job of a queue (optionally in one state), following the keyset cursor to the end; with <paramref name="above"/>,
    /// only jobs with a greater id (the list is newest first, so paging stops at the first page that reaches it).
    /// </summary>
    public async Task<IReadOnlyList<JobRow>> ListJobsAsync(string queue, string? state, CancellationToken cancellationToken, long above = 0)
    {
        var rows = new List<JobRow>();
        string? cursor = null;
        do
        {
            var path = $"api/v1/jobs?queue={queue}&limit=1000" + (state is null ? "" : $"&state={state}") + (cursor is null ? "" : $"&cursor={cursor}");
            var answer = await GetAsync(path, cancellationToken);
            Require(answer, "GET /jobs");
            using var document = JsonDocument.Parse(answer.Body);
            rows.AddRange(document.RootElement.GetProperty("items").EnumerateArray().Select(Row));
            cursor = document.RootElement.TryGetProperty("next_cursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null && (rows.Count == 0 || rows[^1].Id > above));
        return above == 0 ? rows : [.. rows.Where(r => r.Id > above)];
    }

    /// <summary>Counts per state of one queue (all zero when the queue has no jobs yet).</summary>
    public async Task<IReadOnlyDictionary<string, long>> QueueCountsAsync(string queue, CancellationToken cancellationToken)
    {
        var answer = await GetAsync("api/v1/queues", cancellationToken);
        Require(answer, "GET /queues");
        using var document = JsonDocument.Parse(answer.Body);
        var items = document.RootElement.ValueKind == JsonValueKind.Array
            ? document.RootElement
            : document.RootElement.GetProperty(document.RootElement.TryGetProperty("queues", out _) ? "queues" : "items");
        foreach (var q in items.EnumerateArray())
        {
            if (q.GetProperty("name").GetString() == queue)
            {
                return q.GetProperty("counts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
            }
        }

        return new Dictionary<string, long>();
    }

    /// <summary>Registered workers: id, name, state, active jobs.</summary>
    public async Task<IReadOnlyList<(string Id, string Name, string State, int ActiveJobs)>> WorkersAsync(CancellationToken cancellationToken)
    {
        var answer = await GetAsync("api/v1/workers", cancellationToken);
        Require(answer, "GET /workers");
        using var document = JsonDocument.Parse(answer.Body);
        var items = document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement : document.RootElement.GetProperty("workers");
        return items.EnumerateArray().Select(w => (
            w.GetProperty("id").GetString() ?? "", w.GetProperty("name").GetString() ?? "",
            w.GetProperty("state").GetString() ?? "", w.GetProperty("active_jobs").GetInt32())).ToArray();
    }

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await GetAsync("health/ready", cancellationToken)).Succeeded;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public void Dispose() => http.Dispose();

    private static async Task<ApiAnswer> AnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return new ApiAnswer((int)response.StatusCode, body, RetryAfter(response.Headers.RetryAfter));
    }

    private static string? RetryAfter(RetryConditionHeaderValue? value) =>
        value?.Delta?.TotalSeconds.ToString(CultureInfo.InvariantCulture) ?? value?.Date?.ToString("O", CultureInfo.InvariantCulture);

    private static void Require(ApiAnswer answer, string what)
    {
        if (!answer.Succeeded)
        {
            throw new InvalidOperationException($"{what} answered {answer.Status}: {answer.Body}");
        }
    }

    private static JobRow Row(JsonElement j) => new(
        j.GetProperty("id").GetInt64(), Text(j, "state") ?? "", j.TryGetProperty("priority", out var p) ? p.GetInt32() : 0,
        j.TryGetProperty("attempt", out var a) ? a.GetInt32() : 0, Text(j, "lease_owner"), Text(j, "reason"),
        Moment(j, "created_at") ?? default, Moment(j, "started_at"), Moment(j, "finished_at"));

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static DateTimeOffset? Moment(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetDateTimeOffset() : null;
}
