using System.Text;
using System.Text.Json;
using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Dashboard;

/// <summary>
/// The dashboard's routes. Pages are rendered on the server; <c>dashboard.js</c> polls <c>overview.json</c> every 2 s and
/// draws the charts. Every read is one indexed query (a job by id or key, a keyset page, the per-queue counts, workers,
/// stalled jobs); none walks the jobs table. The handlers live in the partial files beside this one, by page.
/// </summary>
internal sealed partial class DashboardEndpoints
{
    private const int PageSize = 50;

    private readonly string _prefix;
    private readonly IJobQuery _query;
    private readonly IJobStore _store;
    private readonly QueueSnapshots _snapshots;
    private readonly ThroughputHistory _history;
    private readonly ReclaimHistory _reclaims;
    private readonly DashboardAuth _auth;
    private readonly IAntiforgery _antiforgery;
    private readonly TimeProvider _time;
    private readonly BulwarkServerOptions _options;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;

    private DashboardEndpoints(string prefix, IServiceProvider services)
    {
        _prefix = prefix;
        _services = services;
        _query = services.GetRequiredService<IJobQuery>();
        _store = services.GetRequiredService<IJobStore>();
        _snapshots = services.GetRequiredService<QueueSnapshots>();
        _history = services.GetRequiredService<ThroughputHistory>();
        _reclaims = services.GetRequiredService<ReclaimHistory>();
        _auth = services.GetRequiredService<DashboardAuth>();
        _antiforgery = services.GetRequiredService<IAntiforgery>();
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        _options = services.GetRequiredService<BulwarkServerOptions>();
        _logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Bulwark.Server.Dashboard");
    }

    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string prefix)
    {
        var d = new DashboardEndpoints(prefix, endpoints.ServiceProvider);
        var root = endpoints.MapGroup(prefix).ExcludeFromDescription();
        root.MapGet("/assets/{name}", DashboardAssets.Serve);
        root.MapGet("/signin", (HttpContext http, string? returnUrl) => d.SignInForm(http, returnUrl, error: null));
        root.MapPost("/signin", d.SignInAsync);

        var pages = root.MapGroup("");
        pages.AddEndpointFilter(ActivatorUtilities.CreateInstance<DashboardAccessFilter>(endpoints.ServiceProvider, prefix));
        pages.MapGet("/", (HttpContext http, CancellationToken ct) => d.Guard(http, () => d.OverviewAsync(http, ct)));
        pages.MapGet("/overview.json", (HttpContext http, CancellationToken ct) => d.OverviewJsonAsync(ct));
        pages.MapGet("/jobs", (HttpContext http, CancellationToken ct) => d.Guard(http, () => d.JobsAsync(http, ct)));
        pages.MapGet("/jobs/find", (HttpContext http, string? q, CancellationToken ct) => d.Guard(http, () => d.FindAsync(http, q, ct)));
        pages.MapGet("/jobs/{id:long}", (HttpContext http, long id, CancellationToken ct) => d.Guard(http, () => d.JobAsync(http, id, ct)));
        pages.MapGet("/dead-letters", (HttpContext http, CancellationToken ct) => d.Guard(http, () => d.DeadLettersAsync(http, ct)));
        pages.MapGet("/workers", (HttpContext http, CancellationToken ct) => d.Guard(http, () => d.WorkersAsync(http, ct)));
        pages.MapGet("/controls", (HttpContext http, CancellationToken ct) => d.Guard(http, () => d.ControlsAsync(http, ct)));
        pages.MapPost("/signout", d.SignOut);
        d.MapControls(pages);
        return root;
    }

    private DashboardPage Page(HttpContext http) =>
        new(_prefix, DashboardAuth.Resolve(http), _auth.KeysEnabled, _antiforgery.GetAndStoreTokens(http).RequestToken, _time.GetUtcNow(), !_auth.Protected);

    private StorageCircuit? StorageCircuit => _services.GetService<StorageCircuit>();

    /// <summary>Bad input and an unavailable store become a page that says what to do, not a stack trace.</summary>
    private async Task<IResult> Guard(HttpContext http, Func<Task<IResult>> handler)
    {
        try
        {
            return await handler();
        }
        catch (JobValidationException ex)
        {
            return Page(http).Render(http, "Not understood", "", $"<p class=\"error\">{DashboardPage.E(ex.Reason)}</p>", StatusCodes.Status400BadRequest);
        }
        catch (StorageCircuitOpenException ex)
        {
            return Page(http).Render(http, "Store unavailable", "", $"<p class=\"error\">{DashboardPage.E(ex.Message)}</p><p>The page will work again once the store answers; see /health/detailed.</p>", StatusCodes.Status503ServiceUnavailable);
        }
    }

    private async Task<IResult> OverviewAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var page = Page(http);
        var queues = await _snapshots.GetAsync(QueueSnapshots.PageStaleLimit, cancellationToken);
        var html = new StringBuilder();
        if (queues.Count == 0)
        {
            html.Append("<p class=\"empty\">No queues yet: enqueue a job (POST /api/v1/jobs or <code>bulwark enqueue</code>) and it shows here.</p>");
        }

        html.Append("<table class=\"queues\" id=\"queues\"><thead><tr><th>Queue</th>");
        foreach (var state in JobStates.All)
        {
            html.Append($"<th class=\"num\">{state.ToName().Replace('_', ' ')}</th>");
        }

        html.Append("<th>Oldest ready</th><th>Status</th></tr></thead><tbody>");
        foreach (var q in queues)
        {
            var e = DashboardPage.E(q.Queue);
            html.Append($"<tr data-queue=\"{e}\"><td>{page.Link("/jobs?queue=" + Uri.EscapeDataString(q.Queue), q.Queue)}</td>");
            foreach (var state in JobStates.All)
            {
                html.Append($"<td class=\"num\" data-count=\"{state.ToName()}\">{DashboardPage.N(q[state])}</td>");
            }

            html.Append($"<td data-field=\"oldest\">{page.Age(q.OldestReadyAt)}</td>")
                .Append($"<td data-field=\"status\">{(q.Paused ? "<span class=\"badge paused\">paused</span>" : "<span class=\"badge ok\">active</span>")}</td></tr>");
        }

        html.Append("</tbody></table>");
        html.Append("<h2>Throughput, last hour</h2><p class=\"hint\">Jobs completed (green) and ended failed or dead-lettered (red) per minute, and the failure rate; from the change in queue counts, sampled while this server runs.</p><div class=\"charts\">");
        foreach (var q in queues)
        {
            var e = DashboardPage.E(q.Queue);
            html.Append($"<section class=\"card\" data-chart-queue=\"{e}\"><h3>{e}</h3>")
                .Append($"<svg class=\"chart\" data-chart=\"throughput\" viewBox=\"0 0 420 120\" role=\"img\" aria-label=\"Throughput of {e}\"></svg>")
                .Append($"<svg class=\"chart\" data-chart=\"failure-rate\" viewBox=\"0 0 420 80\" role=\"img\" aria-label=\"Failure rate of {e}\"></svg></section>");
        }

        html.Append("</div>").Append(CircuitTable(page, controls: false, await _store.ListCircuitsAsync(cancellationToken)));
        return page.Render(http, "Overview", "overview", html.ToString());
    }

    private async Task<IResult> OverviewJsonAsync(CancellationToken cancellationToken)
    {
        var queues = await _snapshots.GetAsync(QueueSnapshots.PageStaleLimit, cancellationToken);
        var now = _time.GetUtcNow();
        var body = new
        {
            now,
            queues = queues.Select(q =>
            {
                var (completed, failed) = _history.Series(q.Queue, now);
                return new
                {
                    queue = q.Queue,
                    counts = JobStates.All.ToDictionary(s => s.ToName(), s => q[s]),
                    paused = q.Paused,
                    oldest_ready_seconds = q.OldestReadyAt is { } at ? Math.Max(0, (now - at).TotalSeconds) : (double?)null,
                    completed,
                    failed,
                };
            }).ToArray(),
            circuits = (await _store.ListCircuitsAsync(cancellationToken)).Select(b => new { type = b.Type, state = b.State.ToName(), failures = b.ConsecutiveFailures, manual = b.Manual, worker = b.WorkerId }).ToArray(),
            storage = StorageCircuit?.State.ToString().ToLowerInvariant(),
        };
        return Results.Json(body, JsonOptions);
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>The fleet's breakers as the store holds them: opened by hand (fleet-wide) and each live worker's own.</summary>
    private string CircuitTable(DashboardPage page, bool controls, IReadOnlyList<CircuitBreakerRecord> list)
    {
        var html = new StringBuilder("<h2>Circuit breakers</h2>");
        if (StorageCircuit is { } storage)
        {
            html.Append($"<p>Storage circuit: <span class=\"badge circuit-{storage.State.ToString().ToLowerInvariant()}\" data-field=\"storage-circuit\">{storage.State.ToString().ToLowerInvariant()}</span></p>");
        }

        var control = controls && page.CanControl;
        html.Append("<table class=\"circuits\" id=\"circuits\"><thead><tr><th>Job type</th><th>State</th><th>Opened by</th><th>Since</th><th class=\"num\">Failures in a row</th>");
        html.Append(control ? "<th></th></tr></thead><tbody>" : "</tr></thead><tbody>");
        if (list.Count == 0)
        {
            html.Append($"<tr><td colspan=\"{(control ? 6 : 5)}\" class=\"empty\">Every circuit is closed on every worker.</td></tr>");
        }

        foreach (var b in list)
        {
            var state = b.State.ToName();
            var by = b.WorkerId is { } worker ? $"failures on {DashboardPage.E(worker)}" : "hand (whole fleet)";
            html.Append($"<tr data-circuit=\"{DashboardPage.E(b.Type)}\" data-manual=\"{(b.Manual ? "true" : "false")}\"><td>{DashboardPage.E(b.Type)}</td><td><span class=\"badge circuit-{state}\">{state}</span></td><td>{by}</td><td>{DashboardPage.E(b.Since.ToString("u", System.Globalization.CultureInfo.InvariantCulture))}</td><td class=\"num\">{b.ConsecutiveFailures}</td>");
            if (control)
            {
                // Only a hand-opened breaker is closed by hand; a worker's own one can be made fleet-wide.
                html.Append("<td>").Append(b.Manual
                    ? page.Form("/circuits/close", "Close", "", ("type", b.Type))
                    : page.Form("/circuits/open", "Open for the fleet", "danger", ("type", b.Type))).Append("</td>");
            }

            html.Append("</tr>");
        }

        html.Append("</tbody></table>");
        return html.ToString();
    }
}
