using System.Net;
using Bulwark.Jobs;

namespace Bulwark.Server.Tests;

public sealed class QueuePolicyApiTests : IAsyncLifetime
{
    private ControlApp _app = null!;

    public async Task InitializeAsync() => _app = await ControlApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task PUT_sets_the_policy_shown_by_GET_queue_and_applied_to_jobs_that_set_nothing()
    {
        using var put = await _app.SendAsync(HttpMethod.Put, "/queues/email/policy", """{"max_attempts":2,"backoff":"fixed(5s)","timeout":"30s","retention":"3d"}""");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var answered = await ControlApp.JsonAsync(put);
        Assert.Equal(("email", 2, "fixed(5s)", "30s", "3d"), (answered.GetProperty("queue").GetString(), answered.GetProperty("max_attempts").GetInt32(),
            answered.GetProperty("backoff").GetString(), answered.GetProperty("timeout").GetString(), answered.GetProperty("retention").GetString()));
        Assert.Equal(new QueuePolicy { MaxAttempts = 2, Backoff = BackoffPolicy.Fixed(TimeSpan.FromSeconds(5)), Timeout = TimeSpan.FromSeconds(30), Retention = TimeSpan.FromDays(3) },
            (await _app.Store.GetQueuePoliciesAsync())["email"]);

        // Known before it has jobs, with the policy in its view.
        using var get = await _app.SendAsync(HttpMethod.Get, "/queues/email", key: TestApp.ReadKey);
        var policy = (await ControlApp.JsonAsync(get)).GetProperty("policy");
        Assert.Equal((2, "30s"), (policy.GetProperty("max_attempts").GetInt32(), policy.GetProperty("timeout").GetString()));

        using var plain = await _app.SendAsync(HttpMethod.Post, "/jobs", """{"queue":"email","type":"demo.noop"}""");
        using var own = await _app.SendAsync(HttpMethod.Post, "/jobs", """{"queue":"email","type":"demo.noop","max_attempts":5}""");
        var plainJob = (await _app.Store.GetJobAsync((await ControlApp.JsonAsync(plain)).GetProperty("id").GetInt64()))!;
        var ownJob = (await _app.Store.GetJobAsync((await ControlApp.JsonAsync(own)).GetProperty("id").GetInt64()))!;
        Assert.Equal((2, TimeSpan.FromSeconds(30)), (plainJob.MaxAttempts, plainJob.Timeout));
        Assert.Equal((5, TimeSpan.FromSeconds(30)), (ownJob.MaxAttempts, ownJob.Timeout));
    }

    [Fact]
    public async Task A_field_left_out_is_kept_and_null_clears_it()
    {
        (await _app.SendAsync(HttpMethod.Put, "/queues/email/policy", """{"max_attempts":2,"timeout":"30s"}""")).Dispose();

        using var changed = await _app.SendAsync(HttpMethod.Put, "/queues/email/policy", """{"timeout":null,"retention":"1h"}""");

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal(new QueuePolicy { MaxAttempts = 2, Retention = TimeSpan.FromHours(1) }, (await _app.Store.GetQueuePoliciesAsync())["email"]);
        using var get = await _app.SendAsync(HttpMethod.Get, "/queues/email/policy", key: TestApp.ReadKey);
        Assert.Equal("""{"queue":"email","max_attempts":2,"retention":"1h"}""", await get.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"max_attempts":0}""", "max_attempts", "between 1 and 1000")]
    [InlineData("""{"max_attempts":"two"}""", "max_attempts", "must be a whole number")]
    [InlineData("""{"timeout":"soon"}""", "timeout", "soon")]
    [InlineData("""{"timeout":"0s"}""", "timeout", "must be positive")]
    [InlineData("""{"backoff":"sometimes"}""", "backoff", "sometimes")]
    [InlineData("""{"retention":"-1d"}""", "retention", "")]
    [InlineData("""{"retention":7}""", "retention", "must be a string")]
    [InlineData("""{"attempts":2}""", "attempts", "Unknown field \"attempts\"")]
    [InlineData("""{}""", "policy", "any of the fields")]
    public async Task Bad_policy_input_is_a_400_naming_the_field_and_the_stored_policy_stays(string body, string field, string expected)
    {
        (await _app.SendAsync(HttpMethod.Put, "/queues/email/policy", """{"max_attempts":3}""")).Dispose();

        using var response = await _app.SendAsync(HttpMethod.Put, "/queues/email/policy", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ControlApp.JsonAsync(response);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(new QueuePolicy { MaxAttempts = 3 }, (await _app.Store.GetQueuePoliciesAsync())["email"]);
    }

    [Fact]
    public async Task Setting_a_policy_needs_the_admin_key()
    {
        using var response = await _app.SendAsync(HttpMethod.Put, "/queues/email/policy", """{"max_attempts":2}""", key: TestApp.ReadKey);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(await _app.Store.GetQueuePoliciesAsync());
    }
}
