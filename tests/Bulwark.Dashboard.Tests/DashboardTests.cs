using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Bulwark.Dashboard.Tests;

/// <summary>The dashboard in a real browser against a real server, store and worker.</summary>
public sealed class DashboardTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private DashboardHost Host => fixture.Host;

    [Fact]
    public async Task Overview_shows_a_queue_and_its_counts_change_live_after_jobs_are_enqueued_through_the_api()
    {
        // Queue "waiting" has no worker, so its jobs stay Ready and the counts are exact.
        await Host.EnqueueAsync("waiting", "demo.noop");
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);
        await page.GotoAsync("/dashboard/");
        var ready = page.Locator("#queues tr[data-queue=waiting] [data-count=ready]");
        await Assertions.Expect(ready).ToHaveTextAsync("1");

        await Host.EnqueueAsync("waiting", "demo.noop");
        await Host.EnqueueAsync("waiting", "demo.noop");

        // No reload: the page's script polls and updates the cell.
        await Assertions.Expect(ready).ToHaveTextAsync("3");
        await Assertions.Expect(page.Locator("#updated")).ToContainTextAsync("live");
        await Assertions.Expect(page.Locator("[data-chart-queue=waiting] svg[data-chart=throughput] text").First).ToContainTextAsync("last hour");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_dead_lettered_demo_fail_job_shows_its_error_category_and_stack_trace_on_its_page()
    {
        var id = await Host.EnqueueAsync("work", "demo.fail", """{"times":5}""", maxAttempts: 1);
        await Host.WaitForStateAsync(id, "dead_letter");
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);

        await page.GotoAsync($"/dashboard/jobs/{id}");

        await Assertions.Expect(page.Locator(".job-head .state")).ToHaveTextAsync("dead_letter");
        var attempt = page.Locator("#attempts li[data-attempt='1']");
        await Assertions.Expect(attempt.Locator("[data-field=error]")).ToContainTextAsync("demo.fail: attempt 1 fails (the first 5 do)");
        await Assertions.Expect(attempt.Locator("[data-field=category]")).ToHaveTextAsync("temporary");
        await Assertions.Expect(attempt).ToContainTextAsync("worker");
        Assert.Contains("DemoFailHandler", await attempt.Locator("pre.stack").TextContentAsync(), StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("pre.json").First).ToContainTextAsync("\"times\": 5");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Retry_all_asks_for_confirmation_then_moves_the_dead_letter_back_and_it_completes()
    {
        Host.Downstream.Down = true;
        var id = await Host.EnqueueAsync("flaky", "test.flaky", maxAttempts: 1);
        await Host.WaitForStateAsync(id, "dead_letter");
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);
        await DashboardFixture.GotoUntilAsync(page, "/dashboard/dead-letters", "#dlq-queues tr[data-queue=flaky]");
        await Assertions.Expect(page.Locator("#dlq-queues tr[data-queue=flaky] [data-count=dead_letter]")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator($"#jobs tr[data-job='{id}']")).ToContainTextAsync("downstream unavailable");
        await fixture.ScreenshotAsync(page, "dead-letters");

        Host.Downstream.Down = false;
        await page.Locator("#dlq-queues tr[data-queue=flaky]").GetByRole(AriaRole.Button, new() { Name = "Retry all" }).ClickAsync();

        // The first click only asks; the job is still a dead letter.
        await Assertions.Expect(page.Locator("main h1")).ToHaveTextAsync("Retry every dead letter of flaky?");
        Assert.Equal("dead_letter", await Host.JobStateAsync(id));
        await fixture.ScreenshotAsync(page, "confirm-retry-all");

        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, retry all" }).ClickAsync();
        await Assertions.Expect(page.Locator("#outcome")).ToHaveTextAsync("Retried 1 dead letters of flaky.");
        await Host.WaitForStateAsync(id, "completed");

        await page.GotoAsync($"/dashboard/jobs/{id}");
        await Assertions.Expect(page.Locator(".job-head .state")).ToHaveTextAsync("completed");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Retrying_one_dead_letter_from_its_page_asks_first_and_then_it_completes()
    {
        Host.Downstream.Down = true;
        var id = await Host.EnqueueAsync("flaky", "test.flaky", maxAttempts: 1);
        await Host.WaitForStateAsync(id, "dead_letter");
        Host.Downstream.Down = false;
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);
        await page.GotoAsync($"/dashboard/jobs/{id}");

        await page.Locator(".job-head").GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Assertions.Expect(page.Locator("main h1")).ToHaveTextAsync($"Retry job {id}?");
        Assert.Equal("dead_letter", await Host.JobStateAsync(id));
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, retry it" }).ClickAsync();

        await Assertions.Expect(page.Locator("#outcome")).ToHaveTextAsync($"Job {id} is back in Ready with its attempts reset.");
        await Host.WaitForStateAsync(id, "completed");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Retrying_a_dead_letter_whose_dependency_dead_lettered_says_which_job_and_changes_nothing()
    {
        var parent = await Host.EnqueueAsync("work", "demo.fail", """{"times":5}""", maxAttempts: 1);
        var child = await Host.EnqueueAsync("work", "demo.noop", dependsOn: parent);
        await Host.WaitForStateAsync(child, "dead_letter");
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);
        await page.GotoAsync($"/dashboard/jobs/{child}");

        await page.Locator(".job-head").GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, retry it" }).ClickAsync();

        await Assertions.Expect(page.Locator("#outcome")).ToContainTextAsync($"it depends on job {parent}, which ended dead_letter");
        Assert.Equal("dead_letter", await Host.JobStateAsync(child));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Purging_a_queues_dead_letters_asks_first_then_deletes_them()
    {
        var first = await Host.EnqueueAsync("doomed", "demo.fail", """{"times":5}""", maxAttempts: 1);
        var second = await Host.EnqueueAsync("doomed", "demo.fail", """{"times":5}""", maxAttempts: 1);
        await Host.WaitForStateAsync(first, "dead_letter");
        await Host.WaitForStateAsync(second, "dead_letter");
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);
        await DashboardFixture.GotoUntilAsync(page, "/dashboard/dead-letters", "#dlq-queues tr[data-queue=doomed] [data-count=dead_letter]:text-is('2')");

        await page.Locator("#dlq-queues tr[data-queue=doomed]").GetByRole(AriaRole.Button, new() { Name = "Purge" }).ClickAsync();
        await Assertions.Expect(page.Locator("#confirm")).ToContainTextAsync("About 2 jobs are deleted for good");
        Assert.Equal("dead_letter", await Host.JobStateAsync(first));
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete them" }).ClickAsync();

        await Assertions.Expect(page.Locator("#outcome")).ToHaveTextAsync("Deleted 2 dead letters of doomed.");
        using var gone = await Host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/v1/jobs/{first}") { Headers = { { "X-API-Key", DashboardHost.AdminKey } } });
        Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_read_key_sees_no_controls_and_its_posts_are_refused_with_403()
    {
        await Host.EnqueueAsync("readonly", "demo.noop");
        var page = await fixture.SignedInPageAsync(DashboardHost.ReadKey);

        await DashboardFixture.GotoUntilAsync(page, "/dashboard/controls", "#queue-controls tr[data-queue=readonly]");
        await Assertions.Expect(page.Locator("#read-only")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#queue-controls tr[data-queue=readonly]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("main form")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Pause" })).ToHaveCountAsync(0);
        await fixture.ScreenshotAsync(page, "controls-read-only");
        await page.GotoAsync("/dashboard/dead-letters");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Retry all" })).ToHaveCountAsync(0);

        // Even with a valid antiforgery token (taken from the sign-out form), a read key may not change anything.
        var token = await page.Locator("header form input[name=__bulwark_af]").GetAttributeAsync("value");
        var response = await page.Context.APIRequest.PostAsync("/dashboard/queues/readonly/pause", new() { Form = FormWith(page, token) });
        Assert.Equal(403, response.Status);
        Assert.Contains("admin key", await response.TextAsync(), StringComparison.Ordinal);
        Assert.False((await Host.GetJsonAsync("/api/v1/queues/readonly")).GetProperty("paused").GetBoolean());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_forged_post_without_a_valid_antiforgery_token_is_refused_and_changes_nothing()
    {
        await Host.EnqueueAsync("forged", "demo.noop");
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);

        // The admin's cookie rides along, as it would on a cross-site request; the token does not.
        var missing = await page.Context.APIRequest.PostAsync("/dashboard/queues/forged/pause", new() { Form = FormWith(page, null) });
        var wrong = await page.Context.APIRequest.PostAsync("/dashboard/queues/forged/pause", new() { Form = FormWith(page, "CfDJ8-not-a-token") });

        Assert.Equal(400, missing.Status);
        Assert.Equal(400, wrong.Status);
        Assert.Contains("antiforgery token is missing or invalid", await wrong.TextAsync(), StringComparison.Ordinal);
        Assert.False((await Host.GetJsonAsync("/api/v1/queues/forged")).GetProperty("paused").GetBoolean());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_pauses_and_resumes_a_queue_from_the_controls_page()
    {
        await Host.EnqueueAsync("steer", "demo.noop");
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);
        await DashboardFixture.GotoUntilAsync(page, "/dashboard/controls", "#queue-controls tr[data-queue=steer]");

        await page.Locator("#queue-controls tr[data-queue=steer]").GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Assertions.Expect(page.Locator("#outcome")).ToContainTextAsync("Queue steer is paused");
        Assert.True((await Host.GetJsonAsync("/api/v1/queues/steer")).GetProperty("paused").GetBoolean());

        await page.GotoAsync("/dashboard/controls");
        await page.Locator("#queue-controls tr[data-queue=steer]").GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Assertions.Expect(page.Locator("#outcome")).ToContainTextAsync("Queue steer is resumed");
        Assert.False((await Host.GetJsonAsync("/api/v1/queues/steer")).GetProperty("paused").GetBoolean());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_sets_a_queues_policy_from_the_controls_page_and_the_queue_table_shows_it()
    {
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);
        await page.GotoAsync("/dashboard/controls");

        var form = page.Locator("#policy-form");
        await form.Locator("input[name=queue]").FillAsync("billing");
        await form.Locator("input[name=max_attempts]").FillAsync("2");
        await form.Locator("input[name=timeout]").FillAsync("45s");
        await form.GetByRole(AriaRole.Button, new() { Name = "Set policy" }).ClickAsync();
        await Assertions.Expect(page.Locator("#outcome")).ToContainTextAsync("Queue billing's policy is now: max_attempts 2, timeout 45s.");
        var policy = await Host.GetJsonAsync("/api/v1/queues/billing/policy");
        Assert.Equal((2, "45s"), (policy.GetProperty("max_attempts").GetInt32(), policy.GetProperty("timeout").GetString()));

        await DashboardFixture.GotoUntilAsync(page, "/dashboard/controls", "#queue-controls tr[data-queue=billing]");
        await Assertions.Expect(page.Locator("#queue-controls tr[data-queue=billing] td.policy")).ToHaveTextAsync("max_attempts 2, timeout 45s");

        // A bad value is refused naming the field, and the policy stays.
        await form.Locator("input[name=queue]").FillAsync("billing");
        await form.Locator("input[name=max_attempts]").FillAsync("0");
        await form.GetByRole(AriaRole.Button, new() { Name = "Set policy" }).ClickAsync();
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("max_attempts must be between 1 and 1000");
        Assert.Equal(2, (await Host.GetJsonAsync("/api/v1/queues/billing/policy")).GetProperty("max_attempts").GetInt32());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_opens_and_closes_a_job_types_circuit_breaker_and_reclaims_stalled_jobs_now()
    {
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);
        await page.GotoAsync("/dashboard/controls");

        await page.FillAsync("main input[name=type]", "demo.sleep");
        await page.GetByRole(AriaRole.Button, new() { Name = "Open circuit" }).ClickAsync();
        await Assertions.Expect(page.Locator("#outcome")).ToContainTextAsync("The circuit of demo.sleep is open");
        Assert.Contains("\"open\"", (await Host.GetJsonAsync("/api/v1/circuit-breakers")).ToString(), StringComparison.Ordinal);

        await page.GotoAsync("/dashboard/controls");
        var row = page.Locator("#circuits tr[data-circuit='demo.sleep']");
        await Assertions.Expect(row.Locator(".badge")).ToHaveTextAsync("open");
        await row.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
        await Assertions.Expect(page.Locator("#outcome")).ToContainTextAsync("The circuit of demo.sleep is closed");
        Assert.DoesNotContain("\"open\"", (await Host.GetJsonAsync("/api/v1/circuit-breakers")).ToString(), StringComparison.Ordinal);

        await page.GotoAsync("/dashboard/controls");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reclaim stalled now" }).ClickAsync();
        await Assertions.Expect(page.Locator("#outcome")).ToContainTextAsync("Reclaimed 0 stalled jobs");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_unknown_key_is_refused_at_sign_in_and_never_echoed()
    {
        var context = await fixture.Browser.NewContextAsync(new() { BaseURL = Host.BaseUrl });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/dashboard/jobs");
        await page.FillAsync("input[name=key]", "not-a-key-SECRET-42");
        var response = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("form.signin button[type=submit]"), r => r.Request.Method == "POST" && r.Url.EndsWith("/dashboard/signin", StringComparison.Ordinal));

        Assert.Equal(401, response.Status);
        await Assertions.Expect(page.Locator("#signin-error")).ToContainTextAsync("not one this server knows");
        Assert.DoesNotContain("SECRET-42", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "bulwark_dashboard");
        await context.CloseAsync();
    }

    [Fact]
    public async Task The_sign_in_cookie_is_http_only_and_same_site_strict_and_does_not_hold_the_key()
    {
        var page = await fixture.SignedInPageAsync(DashboardHost.ReadKey);

        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "bulwark_dashboard");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(DashboardHost.ReadKey, cookie.Value, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Every_page_renders_and_is_saved_as_a_screenshot()
    {
        var done = await Host.EnqueueAsync("work", "demo.steps", """{"steps":3,"ms":10}""");
        var failed = await Host.EnqueueAsync("work", "demo.fail", """{"times":9}""", maxAttempts: 2);
        for (var i = 0; i < 5; i++)
        {
            await Host.EnqueueAsync("work", "demo.noop");
            await Host.EnqueueAsync("emails", "demo.noop");
        }

        await Host.WaitForStateAsync(done, "completed");
        await Host.WaitForStateAsync(failed, "dead_letter");
        var page = await fixture.SignedInPageAsync(DashboardHost.AdminKey);

        await page.GotoAsync("/dashboard/");
        await Assertions.Expect(page.Locator("#queues tr[data-queue=work]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#updated")).ToContainTextAsync("updated");
        await fixture.ScreenshotAsync(page, "overview");

        await page.GotoAsync("/dashboard/jobs?queue=work");
        await Assertions.Expect(page.Locator($"#jobs tr[data-job='{done}']")).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "jobs");

        await page.GotoAsync($"/dashboard/jobs/{failed}");
        await Assertions.Expect(page.Locator("#attempts li")).ToHaveCountAsync(2);
        await page.Locator("#attempts details").First.Locator("summary").ClickAsync();
        await fixture.ScreenshotAsync(page, "job-detail");

        await page.GotoAsync($"/dashboard/jobs/{done}");
        await Assertions.Expect(page.Locator(".job-head .state")).ToHaveTextAsync("completed");
        await fixture.ScreenshotAsync(page, "job-completed");

        await DashboardFixture.GotoUntilAsync(page, "/dashboard/dead-letters", "#dlq-queues tr[data-queue=work]");
        await fixture.ScreenshotAsync(page, "dead-letters-admin");

        await page.GotoAsync("/dashboard/workers");
        await Assertions.Expect(page.Locator("#workers tbody tr").First).ToContainTextAsync("dashboard-test");
        await Assertions.Expect(page.Locator("#workers tbody tr").First).ToContainTextAsync("work, flaky");
        await fixture.ScreenshotAsync(page, "workers");

        await page.GotoAsync("/dashboard/controls");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Reclaim stalled now" })).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "controls");

        // Find by id jumps to the job.
        await page.FillAsync("header .find input[name=q]", done.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.ClickAsync("header .find button");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/dashboard/jobs/{done}$"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Jobs_are_paged_by_keyset_with_an_older_link()
    {
        var ids = new List<long>();
        for (var i = 0; i < 55; i++)
        {
            ids.Add(await Host.EnqueueAsync("paging", "demo.noop"));
        }

        var page = await fixture.SignedInPageAsync(DashboardHost.ReadKey);
        await page.GotoAsync("/dashboard/jobs?queue=paging");
        await Assertions.Expect(page.Locator("#jobs tbody tr")).ToHaveCountAsync(50);
        await Assertions.Expect(page.Locator("#jobs tbody tr").First).ToHaveAttributeAsync("data-job", ids[^1].ToString(System.Globalization.CultureInfo.InvariantCulture));

        await page.Locator("a.older").ClickAsync();
        await Assertions.Expect(page.Locator("#jobs tbody tr")).ToHaveCountAsync(5);
        await Assertions.Expect(page.Locator("#jobs tbody tr").Last).ToHaveAttributeAsync("data-job", ids[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator("a.older")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    private static IFormData FormWith(IPage page, string? token)
    {
        var form = page.Context.APIRequest.CreateFormData();
        if (token is not null)
        {
            form.Set("__bulwark_af", token);
        }

        return form;
    }
}
