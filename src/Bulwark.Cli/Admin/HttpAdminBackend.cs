using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bulwark.Cli.Commands;
using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Bulwark.Workers;

namespace Bulwark.Cli.Admin;

/// <summary>
/// The admin commands over a server's REST API (<c>--url</c> / <c>BULWARK_URL</c>, key from <c>--api-key</c> /
/// <c>BULWARK_API_KEY</c>). The server validates again; its problem+json detail becomes the CLI's error line
/// (400 → exit 2, anything else → exit 1). The key is sent only in the X-API-Key header and never printed.
/// </summary>
internal sealed class HttpAdminBackend : IAdminBackend
{
    private readonly HttpClient _http;

    // The last GET /queues answer: the limits and policies of a listing are read from the same answer as its counts,
    // one request and one consistent snapshot instead of three.
    private JsonElement? _queues;

    public HttpAdminBackend(string url, string? apiKey, HttpMessageHandler? handler = null)
    {
        if (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"--url '{url}' is not a server URL; write it like http://127.0.0.1:5080.");
        }

        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = new Uri(baseUri, "api/v1/");
        _http.Timeout = TimeSpan.FromSeconds(30);
        if (!string.IsNullOrEmpty(apiKey))
        {
            _http.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        }

        Describe = $"server {baseUri.ToString().TrimEnd('/')}";
    }

    public string Describe { get; }

    public async Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        var list = new JsonArray();
        foreach (var job in jobs)
        {
            if (job.DependsOnBatchIndexes.Count > 0)
            {
                throw new CliException(ExitCodes.Usage, "Dependencies on other jobs of the same batch cannot be sent to a server yet; enqueue the parent first and pass its id.");
            }

            var node = new JsonObject
            {
                ["queue"] = job.Queue,
                ["type"] = job.Type,
                ["payload"] = JsonNode.Parse(job.Payload),
                ["priority"] = job.Priority,
            };
            // Only the job's own settings: the rest is the queue's policy's (or the defaults'), judged by the server's store.
            if ((job.OwnSettings & JobSettings.MaxAttempts) != 0) { node["max_attempts"] = job.MaxAttempts; }
            if ((job.OwnSettings & JobSettings.Timeout) != 0) { node["timeout"] = DurationText.Format(job.Timeout); }
            if ((job.OwnSettings & JobSettings.Backoff) != 0) { node["backoff"] = job.Backoff.ToString(); }
            if (job.RunAt is { } runAt) { node["run_at"] = runAt.ToString("O", CultureInfo.InvariantCulture); }
            if (job.Key is not null) { node["key"] = job.Key; }
            if (job.DependsOn.Count > 0) { node["depends_on"] = new JsonArray([.. job.DependsOn.Select(id => (JsonNode)id)]); }
            if (job.ExpiresAt is { } expires) { node["expires_at"] = expires.ToString("O", CultureInfo.InvariantCulture); }
            if (job.TraceParent is not null) { node["trace_parent"] = job.TraceParent; }
            list.Add(node);
        }

        using var response = await SendAsync(HttpMethod.Post, "jobs", new JsonObject { ["jobs"] = list }, cancellationToken);
        var body = await ReadAsync(response, cancellationToken);
        return body.GetProperty("jobs").EnumerateArray().Select(j => new EnqueueResult(j.GetProperty("id").GetInt64(), j.GetProperty("deduplicated").GetBoolean())).ToArray();
    }

    public async Task<JsonElement?> ExplainAsync(long jobId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, $"jobs/{jobId}/explain", null, cancellationToken);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await ReadAsync(response, cancellationToken);
    }

    public async Task<ReclaimResult> ReclaimStalledAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, "maintenance/reclaim-stalled", null, cancellationToken);
        var body = await ReadAsync(response, cancellationToken);
        static long[] Ids(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt64())];
        return new ReclaimResult(Ids(body.GetProperty("reclaimed")), Ids(body.GetProperty("poisoned")), Ids(body.GetProperty("cancelled")),
            [.. body.GetProperty("dead_workers").EnumerateArray().Select(x => x.GetString()!)]);
    }

    public async Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, $"jobs/{jobId}", null, cancellationToken);
        return response.StatusCode == HttpStatusCode.NotFound ? null : ToJob(await ReadAsync(response, cancellationToken));
    }

    public async Task<JobPage> ListJobsAsync(JobListQuery query, CancellationToken cancellationToken)
    {
        var q = new List<string> { $"limit={query.Limit}" };
        if (query.Queue is not null) { q.Add($"queue={Uri.EscapeDataString(query.Queue)}"); }
        if (query.State is { } state) { q.Add($"state={state.ToName()}"); }
        if (query.BeforeId is { } cursor) { q.Add($"cursor={cursor}"); }
        using var response = await SendAsync(HttpMethod.Get, "jobs?" + string.Join('&', q), null, cancellationToken);
        var body = await ReadAsync(response, cancellationToken);
        var next = body.TryGetProperty("next_cursor", out var c) && c.GetString() is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : (long?)null;
        return new JobPage(body.GetProperty("items").EnumerateArray().Select(ToJob).ToArray(), next);
    }

    public async Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"jobs/{jobId}/cancel", null, cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.NotFound => CancelResult.NotFound,
            HttpStatusCode.Conflict => CancelResult.AlreadyFinished,
            HttpStatusCode.Accepted => CancelResult.CancellationRequested,
            _ => (await ReadAsync(response, cancellationToken)).GetProperty("result").GetString() == "cancelled" ? CancelResult.Cancelled : CancelResult.CancellationRequested,
        };
    }

    public async Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"jobs/{jobId}/retry", null, cancellationToken);
        switch (response.StatusCode)
        {
            case HttpStatusCode.NotFound:
                return AdminResult.NotFound;
            case HttpStatusCode.Conflict:
                // A conflict with another job (a dependency, a key) names that job; any other 409 is the wrong state.
                var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
                if (problem.TryGetProperty("conflicting_job_id", out var other) && problem.TryGetProperty("conflict", out var kind))
                {
                    throw new JobConflictException(
                        jobId,
                        other.GetInt64(),
                        kind.GetString() == "key_held" ? JobConflictKind.KeyHeld : JobConflictKind.DependencyNotCompleted,
                        problem.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : "");
                }

                return AdminResult.InvalidState;
            default:
                await ReadAsync(response, cancellationToken);
                return AdminResult.Ok;
        }
    }

    public async Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken)
    {
        var body = await ListQueuesAsync(cancellationToken);
        return body.GetProperty("queues").EnumerateArray().Select(q => new QueueStats
        {
            Queue = q.GetProperty("name").GetString()!,
            Paused = q.GetProperty("paused").GetBoolean(),
            Counts = JobStates.All.ToDictionary(s => s, s => q.GetProperty("counts").TryGetProperty(s.ToName(), out var n) ? n.GetInt64() : 0),
            OldestReadyAt = Time(q, "oldest_ready_at"),
        }).ToArray();
    }

    public async Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"queues/{Uri.EscapeDataString(queue)}/dead-letter/retry", null, cancellationToken);
        return (await ReadAsync(response, cancellationToken)).GetProperty("retried").GetInt32();
    }

    public async Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"queues/{Uri.EscapeDataString(queue)}/{(paused ? "pause" : "resume")}", null, cancellationToken);
        await ReadAsync(response, cancellationToken);
    }

    public async Task<int> DeleteJobsAsync(string queue, JobState state, TimeSpan olderThan, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Delete, $"queues/{Uri.EscapeDataString(queue)}/jobs?state={state.ToName()}&olderThan={DurationText.Format(olderThan)}", null, cancellationToken);
        return (await ReadAsync(response, cancellationToken)).GetProperty("deleted").GetInt32();
    }

    public async Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "workers", null, cancellationToken);
        var body = await ReadAsync(response, cancellationToken);
        return body.GetProperty("workers").EnumerateArray().Select(w => new WorkerInfo
        {
            Registration = new WorkerRegistration
            {
                Id = w.GetProperty("id").GetString()!,
                Name = w.GetProperty("name").GetString()!,
                Host = w.GetProperty("host").GetString()!,
                ProcessId = w.GetProperty("process_id").GetInt32(),
                Queues = w.GetProperty("queues").EnumerateArray().Select(q => q.GetString()!).ToArray(),
                Concurrency = w.GetProperty("concurrency").GetInt32(),
                ActiveJobs = w.GetProperty("active_jobs").GetInt32(),
                MemoryBytes = w.GetProperty("memory_bytes").GetInt64(),
                StartedAt = w.GetProperty("started_at").GetDateTimeOffset(),
                State = Enum.Parse<WorkerState>(w.GetProperty("state").GetString()!, ignoreCase: true),
            },
            HeartbeatAt = w.GetProperty("heartbeat_at").GetDateTimeOffset(),
            State = Enum.Parse<WorkerState>(w.GetProperty("state").GetString()!, ignoreCase: true),
        }).ToArray();
    }

    public async Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "circuit-breakers", null, cancellationToken);
        return (await ReadAsync(response, cancellationToken)).GetProperty("types").EnumerateArray().Select(ToBreaker).ToArray();
    }

    public async Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"circuit-breakers/{Uri.EscapeDataString(type)}/open", null, cancellationToken);
        return ToBreaker(await ReadAsync(response, cancellationToken));
    }

    public async Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"circuit-breakers/{Uri.EscapeDataString(type)}/close", null, cancellationToken);
        return (await ReadAsync(response, cancellationToken)).GetProperty("was_open").GetBoolean();
    }

    private static CircuitBreakerRecord ToBreaker(JsonElement b) => new(
        b.GetProperty("type").GetString()!,
        CircuitStates.TryParse(b.GetProperty("state").GetString(), out var state) ? state : throw new CliException(ExitCodes.Failure, $"The server answered an unknown breaker state '{b.GetProperty("state").GetString()}'."),
        // The API leaves null fields out.
        b.TryGetProperty("worker_id", out var worker) && worker.ValueKind == JsonValueKind.String ? worker.GetString() : null,
        b.GetProperty("since").GetDateTimeOffset(),
        b.TryGetProperty("reset_at", out var reset) && reset.ValueKind == JsonValueKind.String ? reset.GetDateTimeOffset() : null,
        b.GetProperty("consecutive_failures").GetInt32());

    public async Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, $"stalled?limit={limit}", null, cancellationToken);
        return (await ReadAsync(response, cancellationToken)).GetProperty("jobs").EnumerateArray().Select(ToJob).ToArray();
    }

    public async Task<IReadOnlyList<KeyValuePair<string, long>>> SubmitFlowAsync(JsonElement flow, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, "flows", JsonNode.Parse(flow.GetRawText()), cancellationToken);
        var body = await ReadAsync(response, cancellationToken);
        return body.GetProperty("ids").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetInt64())).ToArray();
    }

    public async Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "recurring", null, cancellationToken);
        return (await ReadAsync(response, cancellationToken)).GetProperty("recurring").EnumerateArray().Select(ToRecurring).ToArray();
    }

    public async Task<RecurringJob> SetRecurringAsync(RecurringJob job, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["cron"] = job.Cron,
            ["time_zone"] = job.TimeZone,
            ["queue"] = job.Queue,
            ["type"] = job.Type,
            ["payload"] = JsonNode.Parse(job.Payload),
            ["priority"] = job.Priority,
            ["max_attempts"] = job.MaxAttempts,
            ["timeout"] = DurationText.Format(job.Timeout),
            ["backoff"] = job.Backoff.ToString(),
            ["misfire"] = job.Misfire == MisfirePolicy.RunOnce ? "run_once" : "skip",
        };
        using var response = await SendAsync(HttpMethod.Put, $"recurring/{Uri.EscapeDataString(job.Name)}", body, cancellationToken);
        return ToRecurring(await ReadAsync(response, cancellationToken));
    }

    public async Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Delete, $"recurring/{Uri.EscapeDataString(name)}", null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await ReadAsync(response, cancellationToken);
        return true;
    }

    public async Task<IReadOnlyDictionary<string, QueueLimits>> GetQueueLimitsAsync(CancellationToken cancellationToken)
    {
        var body = _queues ?? await ListQueuesAsync(cancellationToken);
        return body.GetProperty("queues").EnumerateArray()
            .Select(q => (Name: q.GetProperty("name").GetString()!, Limits: Limits(q)))
            .Where(q => !q.Limits.IsNone)
            .ToDictionary(q => q.Name, q => q.Limits, StringComparer.Ordinal);
    }

    public async Task<IReadOnlyDictionary<string, QueuePolicy>> GetQueuePoliciesAsync(CancellationToken cancellationToken)
    {
        var body = _queues ?? await ListQueuesAsync(cancellationToken);
        return body.GetProperty("queues").EnumerateArray()
            .Where(q => q.TryGetProperty("policy", out _))
            .ToDictionary(q => q.GetProperty("name").GetString()!, q => ReadPolicy(q.GetProperty("policy")), StringComparer.Ordinal);
    }

    public async Task<QueueLimits> ChangeQueueLimitsAsync(string queue, QueueLimitChange change, CancellationToken cancellationToken)
    {
        var body = new JsonObject();
        if (change.Clear)
        {
            body["rate_limit"] = null;
            body["concurrency_limit"] = null;
        }

        if (change.Rate is { } rate) { body["rate_limit"] = rate; }
        if (change.Concurrency is { } concurrency) { body["concurrency_limit"] = concurrency; }
        using var response = await SendAsync(HttpMethod.Put, $"queues/{Uri.EscapeDataString(queue)}/limits", body, cancellationToken);
        return Limits(await ReadAsync(response, cancellationToken));
    }

    private static QueueLimits Limits(JsonElement view) => new()
    {
        RatePerSecond = view.TryGetProperty("rate_limit", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble() : null,
        MaxRunning = view.TryGetProperty("concurrency_limit", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : null,
    };

    public async Task<QueuePolicy> GetQueuePolicyAsync(string queue, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, $"queues/{Uri.EscapeDataString(queue)}/policy", null, cancellationToken);
        return ReadPolicy(await ReadAsync(response, cancellationToken));
    }

    public async Task<QueuePolicy> ChangeQueuePolicyAsync(string queue, JsonObject change, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Put, $"queues/{Uri.EscapeDataString(queue)}/policy", change, cancellationToken);
        return ReadPolicy(await ReadAsync(response, cancellationToken));
    }

    // The API leaves out the fields the policy does not set; its reader turns the rest back into a policy.
    private static QueuePolicy ReadPolicy(JsonElement view)
    {
        var fields = new JsonObject();
        foreach (var field in Server.Api.QueuePolicyActions.Fields)
        {
            if (view.TryGetProperty(field, out var value))
            {
                fields[field] = JsonNode.Parse(value.GetRawText());
            }
        }

        return fields.Count == 0 ? QueuePolicy.None : Server.Api.QueuePolicyActions.ReadChange(JsonSerializer.SerializeToElement(fields))(QueuePolicy.None);
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        }

        try
        {
            return await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException(ExitCodes.Failure, $"Cannot reach the server at {_http.BaseAddress}: {ex.Message}. Is 'bulwark serve' running there? Check --url / BULWARK_URL, or work on the store file directly with --store PATH.");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Failure, $"The server at {_http.BaseAddress} did not answer within {_http.Timeout.TotalSeconds:0} s.");
        }
    }

    private async Task<JsonElement> ListQueuesAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, "queues", null, cancellationToken);
        var body = await ReadAsync(response, cancellationToken);
        _queues = body;
        return body;
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }

        string detail;
        string? field = null;
        try
        {
            var problem = JsonDocument.Parse(text).RootElement;
            detail = problem.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : text;
            field = problem.TryGetProperty("field", out var f) ? f.GetString() : null;
        }
        catch (JsonException)
        {
            detail = text.Length > 200 ? text[..200] : text;
        }

        var retry = response.Headers.RetryAfter?.Delta is { } wait ? $" (retry after {wait.TotalSeconds:0} s)" : "";
        var status = (int)response.StatusCode;
        throw status is 400 or 413
            ? new JobValidationException(field ?? "request", detail)
            : new CliException(ExitCodes.Failure, $"The server answered {status} {response.ReasonPhrase}: {detail}{retry}");
    }

    private static JobSnapshot ToJob(JsonElement j) => new()
    {
        Id = j.GetProperty("id").GetInt64(),
        Queue = j.GetProperty("queue").GetString()!,
        Type = j.GetProperty("type").GetString()!,
        Payload = j.TryGetProperty("payload", out var p) ? p.GetRawText() : "",
        Priority = j.GetProperty("priority").GetInt32(),
        State = JobStates.Parse(j.GetProperty("state").GetString()!),
        RunAt = j.GetProperty("run_at").GetDateTimeOffset(),
        CreatedAt = j.GetProperty("created_at").GetDateTimeOffset(),
        UpdatedAt = j.GetProperty("updated_at").GetDateTimeOffset(),
        MaxAttempts = j.GetProperty("max_attempts").GetInt32(),
        Timeout = DurationText.Parse(j.GetProperty("timeout").GetString()!),
        Backoff = BackoffPolicy.Parse(j.GetProperty("backoff").GetString()!),
        Key = Text(j, "key"),
        DependsOn = j.GetProperty("depends_on").EnumerateArray().Select(d => d.GetInt64()).ToArray(),
        ExpiresAt = Time(j, "expires_at"),
        Attempt = j.GetProperty("attempt").GetInt32(),
        LeaseEpoch = j.GetProperty("lease_epoch").GetInt64(),
        LeaseOwner = Text(j, "lease_owner"),
        LeaseExpiresAt = Time(j, "lease_expires_at"),
        Progress = j.GetProperty("progress").GetInt32(),
        Checkpoint = j.TryGetProperty("checkpoint", out var cp) ? cp.GetRawText() : null,
        Result = j.TryGetProperty("result", out var r) ? r.GetRawText() : null,
        Errors = j.TryGetProperty("errors", out var errors) ? errors.EnumerateArray().Select(e => new JobError(
            e.GetProperty("attempt").GetInt32(), Text(e, "worker_id"), Time(e, "started_at"), e.GetProperty("ended_at").GetDateTimeOffset(),
            Enum.Parse<FailureCategory>(e.GetProperty("category").GetString()!, ignoreCase: true), e.GetProperty("message").GetString()!,
            Text(e, "stack_trace"), Text(e, "exception_type"))).ToArray() : [],
        TraceParent = Text(j, "trace_parent"),
        Reason = Text(j, "reason"),
        CancelRequested = j.GetProperty("cancel_requested").GetBoolean(),
        StartedAt = Time(j, "started_at"),
        FinishedAt = Time(j, "finished_at"),
        LostLeases = j.GetProperty("lost_leases").GetInt32(),
    };

    private static RecurringJob ToRecurring(JsonElement r) => new()
    {
        Name = r.GetProperty("name").GetString()!,
        Cron = r.GetProperty("cron").GetString()!,
        TimeZone = r.GetProperty("time_zone").GetString()!,
        Queue = r.GetProperty("queue").GetString()!,
        Type = r.GetProperty("type").GetString()!,
        Payload = r.TryGetProperty("payload", out var p) ? p.GetRawText() : "null",
        Priority = r.GetProperty("priority").GetInt32(),
        MaxAttempts = r.GetProperty("max_attempts").GetInt32(),
        Timeout = DurationText.Parse(r.GetProperty("timeout").GetString()!),
        Backoff = BackoffPolicy.Parse(r.GetProperty("backoff").GetString()!),
        Misfire = r.GetProperty("misfire").GetString() == "run_once" ? MisfirePolicy.RunOnce : MisfirePolicy.Skip,
        NextTick = r.GetProperty("next_tick").GetDateTimeOffset(),
        LastTick = Time(r, "last_tick"),
        LastJobId = r.TryGetProperty("last_job_id", out var id) && id.ValueKind == JsonValueKind.Number ? id.GetInt64() : null,
    };

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static DateTimeOffset? Time(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetDateTimeOffset() : null;
}
