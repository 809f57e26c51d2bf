using System.Globalization;
using System.Text;
using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Server.Dashboard;

/// <summary>Jobs: keyset-paged browsing, find by id or key, one job's detail; and the dead-letter page.</summary>
internal sealed partial class DashboardEndpoints
{
    private async Task<IResult> JobsAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var page = Page(http);
        var (queue, state, before) = ListFilter(http);
        var result = await _query.ListJobsAsync(new JobListQuery(queue, state, before, PageSize), cancellationToken);
        var queues = await _snapshots.GetAsync(TimeSpan.FromHours(1), cancellationToken); // names only: any age will do
        var html = new StringBuilder();
        html.Append($"<form class=\"filters\" method=\"get\" action=\"{DashboardPage.E(page.Url("/jobs"))}\"><label>Queue <select name=\"queue\"><option value=\"\">all</option>");
        foreach (var q in queues)
        {
            html.Append($"<option{(q.Queue == queue ? " selected" : "")}>{DashboardPage.E(q.Queue)}</option>");
        }

        html.Append("</select></label><label>State <select name=\"state\"><option value=\"\">all</option>");
        foreach (var s in JobStates.All)
        {
            html.Append($"<option value=\"{s.ToName()}\"{(s == state ? " selected" : "")}>{s.ToName()}</option>");
        }

        html.Append("</select></label><button type=\"submit\">Show</button></form>");
        html.Append(JobTable(page, result.Items, withRetry: false));
        html.Append(Pager(page, "/jobs", queue, state, before, result.NextCursor));
        return page.Render(http, "Jobs", "jobs", html.ToString());
    }

    private async Task<IResult> FindAsync(HttpContext http, string? q, CancellationToken cancellationToken)
    {
        var page = Page(http);
        var text = (q ?? "").Trim();
        if (text.Length == 0)
        {
            return page.Render(http, "Find a job", "jobs", "<p class=\"error\">Type a job id (a number) or an idempotency key into the find box.</p>", StatusCodes.Status400BadRequest);
        }

        var job = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? await _query.GetJobAsync(id, cancellationToken) : null;
        job ??= await _query.FindByKeyAsync(text, cancellationToken);
        return job is null
            ? page.Render(http, "Find a job", "jobs", $"<p class=\"error\">No job has the id or key “{DashboardPage.E(text)}”. Ids are numbers; keys are matched exactly.</p>", StatusCodes.Status404NotFound)
            : Results.Redirect(page.Url($"/jobs/{job.Id}"));
    }

    private async Task<IResult> JobAsync(HttpContext http, long id, CancellationToken cancellationToken)
    {
        var page = Page(http);
        var job = await _query.GetJobAsync(id, cancellationToken);
        if (job is null)
        {
            return page.Render(http, $"Job {id}", "jobs", $"<p class=\"error\">There is no job {id}: it never existed or retention purged it.</p>", StatusCodes.Status404NotFound);
        }

        var html = new StringBuilder();
        html.Append("<div class=\"job-head\">").Append(DashboardPage.State(job.State));
        if (page.CanControl)
        {
            if (job.State is JobState.Failed or JobState.DeadLetter or JobState.Cancelled)
            {
                html.Append(page.Form($"/jobs/{job.Id}/retry", "Retry", "primary"));
            }

            if (!job.State.IsTerminal())
            {
                html.Append(page.Form($"/jobs/{job.Id}/cancel", job.State == JobState.Running ? "Request cancel" : "Cancel", "danger"));
            }
        }

        html.Append("</div><dl class=\"fields\">");
        Field(html, "Queue", page.Link("/jobs?queue=" + Uri.EscapeDataString(job.Queue), job.Queue));
        Field(html, "Type", DashboardPage.E(job.Type));
        Field(html, "Key", DashboardPage.E(job.Key ?? "—"));
        Field(html, "Priority", job.Priority.ToString(CultureInfo.InvariantCulture));
        Field(html, "Attempt", $"{job.Attempt} of {job.MaxAttempts}");
        Field(html, "Created", DashboardPage.Time(job.CreatedAt));
        Field(html, "Run at", DashboardPage.Time(job.RunAt));
        Field(html, "Started", DashboardPage.Time(job.StartedAt));
        Field(html, "Finished", DashboardPage.Time(job.FinishedAt));
        Field(html, "Timeout", DashboardPage.Duration(job.Timeout));
        if (job.ExpiresAt is { } expires)
        {
            Field(html, "Expires", DashboardPage.Time(expires));
        }

        if (job.DependsOn.Count > 0)
        {
            Field(html, "Depends on", string.Join(", ", job.DependsOn.Select(p => page.Link($"/jobs/{p}", p.ToString(CultureInfo.InvariantCulture)))));
        }

        if (job.LeaseOwner is not null)
        {
            Field(html, "Leased by", $"{DashboardPage.E(job.LeaseOwner)} until {DashboardPage.Time(job.LeaseExpiresAt)}");
        }

        if (job.Reason is not null)
        {
            Field(html, "Reason", $"<span data-field=\"reason\">{DashboardPage.E(job.Reason)}</span>");
        }

        if (job.CancelRequested)
        {
            Field(html, "Cancel", "requested; the worker is told at its next heartbeat");
        }

        if (job.LostLeases > 0)
        {
            Field(html, "Lost leases", job.LostLeases.ToString(CultureInfo.InvariantCulture));
        }

        Field(html, "Progress", $"<progress max=\"100\" value=\"{job.Progress}\"></progress> {job.Progress}%");
        html.Append("</dl>");
        html.Append("<h2>Payload</h2>").Append(Json(job.Payload));
        if (job.Result is not null)
        {
            html.Append("<h2>Result</h2>").Append(Json(job.Result));
        }

        if (job.Checkpoint is not null)
        {
            html.Append("<h2>Checkpoint</h2>").Append(Json(job.Checkpoint));
        }

        html.Append("<h2>Attempts</h2>");
        if (job.Errors.Count == 0)
        {
            html.Append("<p class=\"empty\">No failed attempts.</p>");
        }
        else
        {
            html.Append("<ol class=\"timeline\" id=\"attempts\">");
            foreach (var error in job.Errors.OrderBy(e => e.Attempt))
            {
                var category = error.Category.ToString().ToLowerInvariant();
                html.Append($"<li class=\"attempt\" data-attempt=\"{error.Attempt}\"><div class=\"attempt-head\"><strong>Attempt {error.Attempt}</strong> ")
                    .Append($"<span class=\"badge category-{category}\" data-field=\"category\">{category}</span> ")
                    .Append($"<span class=\"muted\">{DashboardPage.Time(error.StartedAt)} → {DashboardPage.Time(error.EndedAt)} · worker {DashboardPage.E(error.WorkerId ?? "—")}</span></div>")
                    .Append($"<p class=\"error-message\" data-field=\"error\">{(error.ExceptionType is null ? "" : $"<code>{DashboardPage.E(error.ExceptionType)}</code>: ")}{DashboardPage.E(error.Message)}</p>");
                if (!string.IsNullOrEmpty(error.StackTrace))
                {
                    html.Append($"<details><summary>Stack trace</summary><pre class=\"stack\">{DashboardPage.E(error.StackTrace)}</pre></details>");
                }

                html.Append("</li>");
            }

            html.Append("</ol>");
        }

        if (job.TraceParent is not null)
        {
            html.Append($"<p class=\"muted\">Trace: <code>{DashboardPage.E(job.TraceParent)}</code></p>");
        }

        return page.Render(http, $"Job {job.Id} · {job.Type}", "jobs", html.ToString());
    }

    private async Task<IResult> DeadLettersAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var page = Page(http);
        var (queue, _, before) = ListFilter(http);
        var queues = await _snapshots.GetAsync(QueueSnapshots.PageStaleLimit, cancellationToken);
        var html = new StringBuilder("<table class=\"dlq-queues\" id=\"dlq-queues\"><thead><tr><th>Queue</th><th class=\"num\">Dead letters</th>");
        html.Append(page.CanControl ? "<th></th></tr></thead><tbody>" : "</tr></thead><tbody>");
        var any = false;
        foreach (var q in queues.Where(q => q[JobState.DeadLetter] > 0))
        {
            any = true;
            var e = DashboardPage.E(q.Queue);
            html.Append($"<tr data-queue=\"{e}\"><td>{page.Link("/dead-letters?queue=" + Uri.EscapeDataString(q.Queue), q.Queue)}</td><td class=\"num\" data-count=\"dead_letter\">{DashboardPage.N(q[JobState.DeadLetter])}</td>");
            if (page.CanControl)
            {
                var path = "/dead-letters/" + Uri.EscapeDataString(q.Queue);
                html.Append("<td>").Append(page.Form(path + "/retry", "Retry all", "primary")).Append(page.Form(path + "/purge", "Purge", "danger")).Append("</td>");
            }

            html.Append("</tr>");
        }

        if (!any)
        {
            html.Append("<tr><td colspan=\"3\" class=\"empty\">No dead letters in any queue.</td></tr>");
        }

        html.Append("</tbody></table>");
        var result = await _query.ListJobsAsync(new JobListQuery(queue, JobState.DeadLetter, before, PageSize), cancellationToken);
        html.Append($"<h2>{(queue is null ? "Newest dead letters" : $"Dead letters of {DashboardPage.E(queue)}")}</h2>");
        html.Append(JobTable(page, result.Items, withRetry: page.CanControl));
        html.Append(Pager(page, "/dead-letters", queue, null, before, result.NextCursor));
        return page.Render(http, "Dead letters", "dead-letters", html.ToString());
    }

    private static (string? Queue, JobState? State, long? Before) ListFilter(HttpContext http)
    {
        var query = http.Request.Query;
        var queue = query["queue"].ToString() is { Length: > 0 } q ? JobValidator.ValidateQueue(q) : null;
        JobState? state = query["state"].ToString() is { Length: > 0 } s ? JobStates.Parse(s) : null;
        long? before = null;
        if (query["before"].ToString() is { Length: > 0 } b)
        {
            before = long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
                ? id
                : throw new JobValidationException("before", $"before={b} is not a job id; use the Older link to page.");
        }

        return (queue, state, before);
    }

    private static string JobTable(DashboardPage page, IReadOnlyList<JobSnapshot> jobs, bool withRetry)
    {
        var html = new StringBuilder("<table class=\"jobs\" id=\"jobs\"><thead><tr><th class=\"num\">Id</th><th>Queue</th><th>Type</th><th>State</th><th class=\"num\">Attempt</th><th>Created</th><th>Last error / reason</th>");
        html.Append(withRetry ? "<th></th></tr></thead><tbody>" : "</tr></thead><tbody>");
        if (jobs.Count == 0)
        {
            html.Append("<tr><td colspan=\"8\" class=\"empty\">No jobs match.</td></tr>");
        }

        foreach (var job in jobs)
        {
            var last = job.Reason ?? (job.Errors.Count > 0 ? job.Errors[^1].Message : "");
            html.Append($"<tr data-job=\"{job.Id}\"><td class=\"num\">{page.Link($"/jobs/{job.Id}", job.Id.ToString(CultureInfo.InvariantCulture))}</td>")
                .Append($"<td>{DashboardPage.E(job.Queue)}</td><td>{DashboardPage.E(job.Type)}</td><td>{DashboardPage.State(job.State)}</td>")
                .Append($"<td class=\"num\">{job.Attempt}/{job.MaxAttempts}</td><td>{DashboardPage.Time(job.CreatedAt)}</td><td class=\"clip\">{DashboardPage.E(last)}</td>");
            if (withRetry)
            {
                html.Append("<td>").Append(page.Form($"/jobs/{job.Id}/retry", "Retry", "")).Append("</td>");
            }

            html.Append("</tr>");
        }

        return html.Append("</tbody></table>").ToString();
    }

    private static string Pager(DashboardPage page, string path, string? queue, JobState? state, long? before, long? next)
    {
        var filter = (queue is null ? "" : "&queue=" + Uri.EscapeDataString(queue)) + (state is null ? "" : "&state=" + state.Value.ToName());
        var html = new StringBuilder("<nav class=\"pager\">");
        if (before is not null)
        {
            html.Append(page.Link(path + "?" + filter.TrimStart('&'), "« Newest"));
        }

        if (next is not null)
        {
            html.Append(page.Link($"{path}?before={next}{filter}", "Older »", "older"));
        }

        return html.Append("</nav>").ToString();
    }

    private static void Field(StringBuilder html, string name, string valueHtml) =>
        html.Append($"<dt>{DashboardPage.E(name)}</dt><dd>{valueHtml}</dd>");

    private static string Json(string json)
    {
        string pretty;
        try
        {
            using var document = JsonDocument.Parse(json);
            pretty = JsonSerializer.Serialize(document.RootElement, IndentedJson);
        }
        catch (JsonException)
        {
            pretty = json;
        }

        return $"<pre class=\"json\">{DashboardPage.E(pretty)}</pre>";
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };
}
