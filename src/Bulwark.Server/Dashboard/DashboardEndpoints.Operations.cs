using System.Globalization;
using System.Text;
using Bulwark.Server.Api;
using Bulwark.Storage;

namespace Bulwark.Server.Dashboard;

/// <summary>Workers (with stalled jobs and recent reclaims) and the controls page.</summary>
internal sealed partial class DashboardEndpoints
{
    private async Task<IResult> WorkersAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var page = Page(http);
        var workers = await _query.ListWorkersAsync(cancellationToken);
        var stalled = await _query.ListStalledAsync(100, cancellationToken);
        var html = new StringBuilder();
        html.Append($"<p class=\"summary\">{workers.Count(w => w.State == WorkerState.Active)} active · {workers.Count(w => w.State == WorkerState.Dead)} dead · ")
            .Append($"<span data-field=\"reclaimed\">{DashboardPage.N(_reclaims.LastHour())}</span> stalled jobs reclaimed by this process in the last hour</p>");
        html.Append("<table class=\"workers\" id=\"workers\"><thead><tr><th>Name</th><th>Host</th><th class=\"num\">PID</th><th>Queues</th><th class=\"num\">Concurrency</th><th class=\"num\">Active jobs</th><th class=\"num\">Memory</th><th>Heartbeat</th><th>Started</th><th>State</th></tr></thead><tbody>");
        if (workers.Count == 0)
        {
            html.Append("<tr><td colspan=\"10\" class=\"empty\">No worker has registered with this store.</td></tr>");
        }

        foreach (var w in workers)
        {
            var r = w.Registration;
            var state = w.State.ToString().ToLowerInvariant();
            html.Append($"<tr data-worker=\"{DashboardPage.E(r.Id)}\" class=\"worker-{state}\"><td title=\"{DashboardPage.E(r.Id)}\">{DashboardPage.E(r.Name)}</td><td>{DashboardPage.E(r.Host)}</td>")
                .Append($"<td class=\"num\">{r.ProcessId}</td><td>{DashboardPage.E(string.Join(", ", r.Queues))}</td><td class=\"num\">{r.Concurrency}</td>")
                .Append($"<td class=\"num\">{r.ActiveJobs}</td><td class=\"num\">{(r.MemoryBytes / (1024.0 * 1024)).ToString("N0", CultureInfo.InvariantCulture)} MB</td>")
                .Append($"<td>{page.Age(w.HeartbeatAt)} ago</td><td>{DashboardPage.Time(r.StartedAt)}</td><td><span class=\"badge worker-{state}\">{state}</span></td></tr>");
        }

        html.Append("</tbody></table><h2>Stalled jobs</h2><p class=\"hint\">Running jobs whose lease expired: the next reclaim pass takes them back.</p>");
        html.Append(JobTable(page, stalled, withRetry: false));
        return page.Render(http, "Workers", "workers", html.ToString());
    }

    private async Task<IResult> ControlsAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var page = Page(http);
        var queues = await _snapshots.GetAsync(QueueSnapshots.PageStaleLimit, cancellationToken);
        var html = new StringBuilder();
        if (!page.CanControl)
        {
            html.Append("<p class=\"notice\" id=\"read-only\">You are signed in with a read-only key: you can see every state here, and change none. Controls need an admin key.</p>");
        }

        var policies = await _store.GetQueuePoliciesAsync(cancellationToken);
        html.Append("<h2>Queues</h2><table class=\"queue-controls\" id=\"queue-controls\"><thead><tr><th>Queue</th><th>Status</th><th class=\"num\">Ready</th><th>Policy</th>");
        html.Append(page.CanControl ? "<th></th></tr></thead><tbody>" : "</tr></thead><tbody>");
        foreach (var q in queues)
        {
            var path = "/queues/" + Uri.EscapeDataString(q.Queue);
            html.Append($"<tr data-queue=\"{DashboardPage.E(q.Queue)}\"><td>{DashboardPage.E(q.Queue)}</td><td>{(q.Paused ? "<span class=\"badge paused\">paused</span>" : "<span class=\"badge ok\">active</span>")}</td><td class=\"num\">{DashboardPage.N(q[Jobs.JobState.Ready])}</td>")
                .Append($"<td class=\"policy\">{DashboardPage.E(QueuePolicyActions.Describe(policies.GetValueOrDefault(q.Queue) ?? Jobs.QueuePolicy.None))}</td>");
            if (page.CanControl)
            {
                html.Append("<td>").Append(q.Paused ? page.Form(path + "/resume", "Resume", "primary") : page.Form(path + "/pause", "Pause", "danger")).Append("</td>");
            }

            html.Append("</tr>");
        }

        html.Append("</tbody></table>");
        html.Append(CircuitTable(page, controls: true, await _store.ListCircuitsAsync(cancellationToken)));
        if (page.CanControl)
        {
            html.Append($"<form method=\"post\" action=\"{DashboardPage.E(page.Url("/circuits/open"))}\" class=\"row\">{page.TokenInput}")
                .Append("<label>Job type <input name=\"type\" required placeholder=\"email.send\"></label><button type=\"submit\" class=\"danger\">Open circuit</button></form>")
                .Append("<p class=\"hint\">Opens the type's breaker for the whole fleet: every worker stops leasing it within one poll until it is closed.</p>");

            html.Append($"<form method=\"post\" action=\"{DashboardPage.E(page.Url("/queues/policy"))}\" class=\"row\" id=\"policy-form\">{page.TokenInput}")
                .Append("<label>Queue <input name=\"queue\" required placeholder=\"email\"></label><label>Max attempts <input name=\"max_attempts\" placeholder=\"3\"></label>")
                .Append("<label>Backoff <input name=\"backoff\" placeholder=\"fixed(5s)\"></label><label>Timeout <input name=\"timeout\" placeholder=\"30s\"></label>")
                .Append("<label>Retention <input name=\"retention\" placeholder=\"7d\"></label><button type=\"submit\" class=\"primary\">Set policy</button></form>")
                .Append("<p class=\"hint\">A queue's defaults for jobs that do not set their own, for the whole fleet; a field left empty is kept, <code>none</code> clears it.</p>");
            html.Append($"<form method=\"post\" action=\"{DashboardPage.E(page.Url("/queues/limits"))}\" class=\"row\" id=\"limits-form\">{page.TokenInput}")
                .Append("<label>Queue <input name=\"queue\" required placeholder=\"email\"></label><label>Rate (jobs/s) <input name=\"rate_limit\" placeholder=\"5\"></label>")
                .Append("<label>Concurrency <input name=\"concurrency_limit\" placeholder=\"2\"></label><button type=\"submit\" class=\"primary\">Set limits</button></form>")
                .Append("<p class=\"hint\">Fleet-wide caps enforced by the store when it hands out jobs; a field left empty is kept, <code>none</code> clears it.</p>");

            html.Append("<h2>Stalled jobs</h2><p class=\"hint\">Take back running jobs whose lease expired and declare silent workers dead, now, instead of at the next maintenance pass.</p>")
                .Append(page.Form("/reclaim", "Reclaim stalled now", "primary"));
        }

        return page.Render(http, "Controls", "controls", html.ToString());
    }
}
