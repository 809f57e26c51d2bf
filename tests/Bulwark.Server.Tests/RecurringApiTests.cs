using System.Net;
using Bulwark.Maintenance;
using Bulwark.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Server.Tests;

public sealed class RecurringApiTests : IAsyncLifetime
{
    private const string Nightly = """{"cron":"0 0 2 * * *","time_zone":"Europe/Paris","queue":"reports","type":"report.build","payload":{"kind":"nightly"},"misfire":"run_once","max_attempts":5}""";

    private ControlApp _app = null!;

    public async Task InitializeAsync() => _app = await ControlApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task PUT_creates_a_definition_whose_next_tick_is_read_in_its_time_zone_and_GET_lists_it()
    {
        using var created = await _app.SendAsync(HttpMethod.Put, "/recurring/nightly-report", Nightly);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var view = await ControlApp.JsonAsync(created);
        // 2026-03-01 12:00 UTC: the next 02:00 in Paris (UTC+1 in winter) is 2026-03-02 01:00 UTC.
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 1, 0, 0, TimeSpan.Zero), view.GetProperty("next_tick").GetDateTimeOffset());
        Assert.Equal("run_once", view.GetProperty("misfire").GetString());
        var stored = Assert.Single(await _app.Store.ListRecurringAsync());
        Assert.Equal(("0 0 2 * * *", "Europe/Paris", "reports", "report.build", """{"kind":"nightly"}""", MisfirePolicy.RunOnce, 5),
            (stored.Cron, stored.TimeZone, stored.Queue, stored.Type, stored.Payload, stored.Misfire, stored.MaxAttempts));

        using var list = await _app.SendAsync(HttpMethod.Get, "/recurring", key: TestApp.ReadKey);
        var item = Assert.Single((await ControlApp.JsonAsync(list)).GetProperty("recurring").EnumerateArray());
        Assert.Equal(("nightly-report", "kind"), (item.GetProperty("name").GetString(), item.GetProperty("payload").EnumerateObject().Single().Name));
    }

    [Fact]
    public async Task PUT_of_an_unchanged_schedule_keeps_its_next_tick_and_answers_200()
    {
        using var first = await _app.SendAsync(HttpMethod.Put, "/recurring/nightly-report", Nightly);
        var tick = (await ControlApp.JsonAsync(first)).GetProperty("next_tick").GetDateTimeOffset();
        _app.Time.Advance(TimeSpan.FromMinutes(30));

        using var again = await _app.SendAsync(HttpMethod.Put, "/recurring/nightly-report", Nightly.Replace("\"max_attempts\":5", "\"max_attempts\":6", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var view = await ControlApp.JsonAsync(again);
        Assert.Equal((tick, 6), (view.GetProperty("next_tick").GetDateTimeOffset(), view.GetProperty("max_attempts").GetInt32()));
    }

    [Fact]
    public async Task A_definition_stored_through_the_API_is_enqueued_once_by_maintenance_at_its_tick()
    {
        using var created = await _app.SendAsync(HttpMethod.Put, "/recurring/every-minute", """{"cron":"0 * * * * *","queue":"ticks","type":"demo.noop"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        _app.Time.Advance(TimeSpan.FromSeconds(61));

        var maintenance = _app.Services.GetRequiredService<MaintenanceService>();
        await maintenance.RunOnceAsync();
        await maintenance.RunOnceAsync();

        var tick = new DateTimeOffset(2026, 3, 1, 12, 1, 0, TimeSpan.Zero);
        var job = await _app.Store.FindByKeyAsync($"cron:every-minute:{tick.ToUnixTimeMilliseconds()}");
        Assert.NotNull(job);
        Assert.Equal(("ticks", "demo.noop"), (job.Queue, job.Type));
        Assert.Equal(1, await _app.StoredJobsAsync());
        using var list = await _app.SendAsync(HttpMethod.Get, "/recurring", key: TestApp.ReadKey);
        var item = Assert.Single((await ControlApp.JsonAsync(list)).GetProperty("recurring").EnumerateArray());
        Assert.Equal(job.Id, item.GetProperty("last_job_id").GetInt64());
        Assert.Equal(tick.AddMinutes(1), item.GetProperty("next_tick").GetDateTimeOffset());
    }

    [Fact]
    public async Task DELETE_removes_a_definition_and_a_second_DELETE_is_404()
    {
        (await _app.SendAsync(HttpMethod.Put, "/recurring/nightly-report", Nightly)).Dispose();

        using var removed = await _app.SendAsync(HttpMethod.Delete, "/recurring/nightly-report");
        using var again = await _app.SendAsync(HttpMethod.Delete, "/recurring/nightly-report");

        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Empty(await _app.Store.ListRecurringAsync());
        await ControlApp.AssertProblemAsync(again, HttpStatusCode.NotFound, "There is no recurring job 'nightly-report'");
    }

    [Theory]
    [InlineData("nightly", """{"cron":"0 0 25 * * *","type":"t"}""", "is not a valid cron expression")]
    [InlineData("nightly", """{"type":"t"}""", "\"cron\" is missing")]
    [InlineData("nightly", """{"cron":"0 0 2 * * *"}""", "\"type\" is missing")]
    [InlineData("nightly", """{"cron":"0 0 2 * * *","type":"t","time_zone":"Mars/Olympus"}""", "not a time zone known")]
    [InlineData("nightly", """{"cron":"0 0 2 * * *","type":"t","misfire":"sometimes"}""", "\"misfire\" must be \"skip\"")]
    [InlineData("nightly", """{"cron":"0 0 2 * * *","type":"t","queue":"Bad Queue"}""", "queue")]
    [InlineData("nightly", """{"cron":"0 0 2 * * *","type":"t","max_attempts":0}""", "max_attempts")]
    [InlineData("nightly", """{"cron":"0 0 2 * * *","type":"t","timeout":"never"}""", "\"timeout\" must be a positive duration")]
    [InlineData("nightly", """{"cron":"0 0 2 * * *","type":"t","crn":"x"}""", "Unknown field \"crn\"")]
    [InlineData("nightly", """["0 0 2 * * *"]""", "is a JSON object")]
    [InlineData("bad name!", """{"cron":"0 0 2 * * *","type":"t"}""", "not a valid recurring job name")]
    public async Task A_bad_definition_is_a_400_saying_what_to_change_and_nothing_is_stored(string name, string body, string expected)
    {
        using var response = await _app.SendAsync(HttpMethod.Put, "/recurring/" + Uri.EscapeDataString(name), body);

        await ControlApp.AssertProblemAsync(response, HttpStatusCode.BadRequest, expected);
        Assert.Empty(await _app.Store.ListRecurringAsync());
    }

    [Fact]
    public async Task A_read_key_lists_but_cannot_define_or_remove()
    {
        using var put = await _app.SendAsync(HttpMethod.Put, "/recurring/nightly-report", Nightly, TestApp.ReadKey);
        using var delete = await _app.SendAsync(HttpMethod.Delete, "/recurring/nightly-report", key: TestApp.ReadKey);
        using var list = await _app.SendAsync(HttpMethod.Get, "/recurring", key: TestApp.ReadKey);

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.OK), (put.StatusCode, delete.StatusCode, list.StatusCode));
        Assert.Empty(await _app.Store.ListRecurringAsync());
    }
}
