using System.Text;
using Bulwark.Jobs;
using Bulwark.Server.Api;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Server.Dashboard;

/// <summary>
/// The changes. Each runs behind <see cref="DashboardAccessFilter"/> (admin key, valid antiforgery token). The destructive or
/// bulk ones (retry, retry all, purge, cancel) first answer with a confirmation page whose form repeats the request with confirm=yes.
/// </summary>
internal sealed partial class DashboardEndpoints
{
    private void MapControls(RouteGroupBuilder pages)
    {
        pages.MapPost("/jobs/{id:long}/retry", (HttpContext http, long id, CancellationToken ct) => Guard(http, () => RetryJobAsync(http, id, ct)));
        pages.MapPost("/jobs/{id:long}/cancel", (HttpContext http, long id, CancellationToken ct) => Guard(http, () => CancelJobAsync(http, id, ct)));
        pages.MapPost("/dead-letters/{queue}/retry", (HttpContext http, string queue, CancellationToken ct) => Guard(http, () => RetryAllAsync(http, queue, ct)));
        pages.MapPost("/dead-letters/{queue}/purge", (HttpContext http, string queue, CancellationToken ct) => Guard(http, () => PurgeAsync(http, queue, ct)));
        pages.MapPost("/queues/{queue}/pause", (HttpContext http, string queue, CancellationToken ct) => Guard(http, () => PauseAsync(http, queue, paused: true, ct)));
        pages.MapPost("/queues/{queue}/resume", (HttpContext http, string queue, CancellationToken ct) => Guard(http, () => PauseAsync(http, queue, paused: false, ct)));
        pages.MapPost("/circuits/open", (HttpContext http, CancellationToken ct) => Guard(http, () => SetCircuitAsync(http, open: true, ct)));
        pages.MapPost("/circuits/close", (HttpContext http, CancellationToken ct) => Guard(http, () => SetCircuitAsync(http, open: false, ct)));
        pages.MapPost("/queues/policy", (HttpContext http, CancellationToken ct) => Guard(http, () => SetPolicyAsync(http, ct)));
        pages.MapPost("/queues/limits", (HttpContext http, CancellationToken ct) => Guard(http, () => SetLimitsAsync(http, ct)));
        pages.MapPost("/reclaim", (HttpContext http, CancellationToken ct) => Guard(http, () => ReclaimAsync(http, ct)));
    }

    private async Task<IResult> RetryJobAsync(HttpContext http, long id, CancellationToken cancellationToken)
    {
        if (await Confirm(http, $"Retry job {id}?", () => Task.FromResult("It moves back to Ready with its attempts reset, and runs again (Pending first, if a job it depends on is running again)."), "Yes, retry it", $"/jobs/{id}") is { } confirm)
        {
            return confirm;
        }

        AdminResult result;
        try
        {
            result = await Admin.RetryAsync(id, cancellationToken);
        }
        catch (JobConflictException ex)
        {
            return Done(http, false, ex.Message, $"/jobs/{id}");
        }

        var job = await _query.GetJobAsync(id, cancellationToken);

        var message = result switch
        {
            AdminResult.Ok when job?.State == JobState.Pending => $"Job {id} is pending with its attempts reset: it runs once the jobs it depends on complete.",
            AdminResult.Ok => $"Job {id} is back in Ready with its attempts reset.",
            AdminResult.NotFound => $"There is no job {id}.",
            _ => $"Job {id} is {job?.State.ToName() ?? "gone"}; only failed, dead-letter and cancelled jobs can be retried.",
        };
        return Done(http, result == AdminResult.Ok, message, $"/jobs/{id}");
    }

    private async Task<IResult> CancelJobAsync(HttpContext http, long id, CancellationToken cancellationToken)
    {
        if (await Confirm(http, $"Cancel job {id}?", () => Task.FromResult("A waiting job is cancelled at once; a running one is asked to stop at its worker's next heartbeat."), "Yes, cancel it", $"/jobs/{id}") is { } confirm)
        {
            return confirm;
        }

        var result = await Admin.CancelAsync(id, cancellationToken);
        var message = result switch
        {
            CancelResult.Cancelled => $"Job {id} is cancelled.",
            CancelResult.CancellationRequested => $"Cancellation of job {id} was requested; its worker is told at the next heartbeat.",
            CancelResult.NotFound => $"There is no job {id}.",
            _ => $"Job {id} had already finished; nothing changed.",
        };
        return Done(http, result is CancelResult.Cancelled or CancelResult.CancellationRequested, message, $"/jobs/{id}");
    }

    private async Task<IResult> RetryAllAsync(HttpContext http, string queue, CancellationToken cancellationToken)
    {
        JobValidator.ValidateQueue(queue);
        if (await Confirm(http, $"Retry every dead letter of {queue}?", async () => $"About {DashboardPage.N(await DeadLettersOfAsync(queue, cancellationToken))} jobs move back to Ready with their attempts reset, and run again.", "Yes, retry all", "/dead-letters") is { } confirm)
        {
            return confirm;
        }

        var retried = await Admin.RetryDeadLettersAsync(queue, cancellationToken);

        _snapshots.Invalidate();
        var left = await DeadLettersOfAsync(queue, cancellationToken);
        var message = $"Retried {DashboardPage.N(retried)} dead letters of {queue}.";
        if (left > 0)
        {
            message += $" {DashboardPage.N(left)} stay: each depends on a job that did not complete, or shares its key with a live job. Retry one to see which.";
        }

        return Done(http, true, message, "/dead-letters");
    }

    private async Task<IResult> PurgeAsync(HttpContext http, string queue, CancellationToken cancellationToken)
    {
        JobValidator.ValidateQueue(queue);
        if (await Confirm(http, $"Delete every dead letter of {queue}?", async () => $"About {DashboardPage.N(await DeadLettersOfAsync(queue, cancellationToken))} jobs are deleted for good, with their payloads and errors. This cannot be undone.", "Yes, delete them", "/dead-letters") is { } confirm)
        {
            return confirm;
        }

        var deleted = await Admin.PurgeAsync(queue, JobState.DeadLetter, TimeSpan.Zero, cancellationToken);
        return Done(http, true, $"Deleted {DashboardPage.N(deleted)} dead letters of {queue}.", "/dead-letters");
    }

    private async Task<IResult> PauseAsync(HttpContext http, string queue, bool paused, CancellationToken cancellationToken)
    {
        JobValidator.ValidateQueue(queue);
        await Admin.SetPausedAsync(queue, paused, cancellationToken);

        return Done(http, true,
            paused ? $"Queue {queue} is paused: workers lease none of its jobs until it is resumed." : $"Queue {queue} is resumed.", "/controls");
    }

    private async Task<IResult> SetCircuitAsync(HttpContext http, bool open, CancellationToken cancellationToken)
    {
        var form = await http.Request.ReadFormAsync(cancellationToken);
        var type = JobValidator.ValidateType(form["type"].ToString().Trim());
        if (open)
        {
            await Admin.OpenCircuitAsync(type, cancellationToken);
            return Done(http, true, $"The circuit of {type} is open for the whole fleet: no worker leases its jobs (within one poll) until it is closed.", "/controls");
        }

        var wasOpen = await Admin.CloseCircuitAsync(type, cancellationToken);
        return Done(http, true,
            wasOpen ? $"The circuit of {type} is closed: workers lease its jobs again within one poll." : $"The circuit of {type} was not open by hand; nothing changed.", "/controls");
    }

    private async Task<IResult> SetPolicyAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var form = await http.Request.ReadFormAsync(cancellationToken);
        var queue = JobValidator.ValidateQueue(form["queue"].ToString().Trim());
        // The form's fields in the API's shape: an empty field is kept, "none" clears it; the API's reader judges them.
        var body = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var field in QueuePolicyActions.Fields)
        {
            var text = form[field].ToString().Trim();
            if (text.Length > 0)
            {
                body[field] = text.Equals("none", StringComparison.OrdinalIgnoreCase) ? null
                    : field == "max_attempts" && int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
                    : field == "max_attempts" ? throw new JobValidationException("max_attempts", $"Max attempts is '{text}'; give a whole number (1 means no retries).")
                    : text;
            }
        }

        if (body.Count == 0)
        {
            throw new JobValidationException("policy", "Fill in at least one of max attempts, backoff, timeout or retention.");
        }

        var change = QueuePolicyActions.ReadChange(System.Text.Json.JsonSerializer.SerializeToElement(body));
        var policy = await Admin.ChangeQueuePolicyAsync(queue, change, cancellationToken);
        return Done(http, true, $"Queue {queue}'s policy is now: {QueuePolicyActions.Describe(policy)}.", "/controls");
    }

    private async Task<IResult> SetLimitsAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var form = await http.Request.ReadFormAsync(cancellationToken);
        var queue = JobValidator.ValidateQueue(form["queue"].ToString().Trim());
        // An empty field is kept, "none" clears it, as in the policy form and PUT /queues/{q}/limits.
        var rate = Field<double>(form["rate_limit"].ToString().Trim(), "rate_limit", t => double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : (double?)null, "a number of jobs per second, such as 5 or 0.5");
        var concurrency = Field<int>(form["concurrency_limit"].ToString().Trim(), "concurrency_limit", t => int.TryParse(t, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : (int?)null, "a whole number of running jobs, such as 2");
        if (rate is null && concurrency is null)
        {
            throw new JobValidationException("limits", "Fill in the rate limit, the concurrency limit or both (none clears one).");
        }

        var limits = await Admin.ChangeQueueLimitsAsync(queue, current => current with
        {
            RatePerSecond = rate is { } r ? r.Value : current.RatePerSecond,
            MaxRunning = concurrency is { } c ? c.Value : current.MaxRunning,
        }, cancellationToken);
        return Done(http, true, $"Queue {queue}'s limits are now: rate {limits.RatePerSecond?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, concurrency {limits.MaxRunning?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}.", "/controls");

        // Null: left empty (kept); a Box holding null: "none" (cleared).
        static Box<T>? Field<T>(string text, string field, Func<string, T?> parse, string what) where T : struct =>
            text.Length == 0 ? null
            : text.Equals("none", StringComparison.OrdinalIgnoreCase) ? new Box<T>(null)
            : parse(text) is { } value ? new Box<T>(value)
            : throw new JobValidationException(field, $"{field} is '{text}'; give {what}, or none to clear it.");
    }

    private sealed record Box<T>(T? Value) where T : struct;

    private async Task<IResult> ReclaimAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var result = await Admin.ReclaimStalledAsync(cancellationToken);

        return Done(http, true,
            $"Reclaimed {result.Reclaimed.Count} stalled jobs ({result.Poisoned.Count} dead-lettered as poison, {result.Cancelled.Count} cancelled); {result.DeadWorkers.Count} workers declared dead.", "/workers");
    }

    /// <summary>Null once confirmed; otherwise the confirmation page, whose form repeats this POST with confirm=yes.</summary>
    private async Task<IResult?> Confirm(HttpContext http, string question, Func<Task<string>> consequence, string yes, string back)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (form["confirm"] == "yes")
        {
            return null;
        }

        var page = Page(http);
        var action = http.Request.Path.Value!;
        var html = new StringBuilder($"<div class=\"confirm\" id=\"confirm\"><p>{DashboardPage.E(await consequence())}</p>")
            .Append(page.Form(action[_prefix.Length..], yes, "danger", ("confirm", "yes")))
            .Append(page.Link(back, "No, go back", "button"))
            .Append("</div>");
        return page.Render(http, question, "", html.ToString());
    }

    private IResult Done(HttpContext http, bool ok, string message, string back)
    {
        // The action itself was logged by AdminActions; the page only reports it.
        _snapshots.Invalidate();
        var page = Page(http);
        var html = $"<p class=\"{(ok ? "notice" : "error")}\" id=\"outcome\">{DashboardPage.E(message)}</p><p>{page.Link(back, "Back")}</p>";
        return page.Render(http, ok ? "Done" : "Nothing changed", "", html, ok ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
    }

    private async Task<long> DeadLettersOfAsync(string queue, CancellationToken cancellationToken) =>
        (await _snapshots.RefreshAsync(cancellationToken)).FirstOrDefault(q => q.Queue == queue)?[JobState.DeadLetter] ?? 0;

    // Every control goes through the one set of operator actions the API uses too.
    private AdminActions Admin => _services.GetRequiredService<AdminActions>();
}
