using Bulwark.Client;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Tests.Client;

public sealed class JobClientTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly InMemoryJobStore _store;
    private readonly JobClient _client;

    public JobClientTests()
    {
        _store = new InMemoryJobStore(_time);
        _client = new JobClient(_store, _store, new JobClientOptions { MaxPayloadBytes = 1000 }, _time);
    }

    private async Task<IReadOnlyList<JobSnapshot>> AllJobsAsync() => (await _store.ListJobsAsync(new JobListQuery(Limit: 1000))).Items;

    [Fact]
    public async Task A_valid_job_is_stored_with_its_payload_serialized_as_camel_case_json()
    {
        var id = await _client.EnqueueAsync("email", "email.send", new { ToAddress = "a@b.c" });

        var job = await _client.GetAsync(id);
        Assert.NotNull(job);
        Assert.Equal("""{"toAddress":"a@b.c"}""", job.Payload);
        Assert.Equal(JobState.Ready, job.State);
    }

    [Theory]
    [InlineData("Bad Queue", "email.send", "{}")]
    [InlineData("email", "", "{}")]
    [InlineData("email", "email.send", "{oops")]
    public async Task A_refused_job_stores_nothing(string queue, string type, string payload)
    {
        await Assert.ThrowsAsync<JobValidationException>(() => _client.EnqueueJsonAsync(queue, type, payload));

        Assert.Empty(await AllJobsAsync());
    }

    [Fact]
    public async Task A_payload_over_the_clients_limit_is_refused_as_too_large_and_not_stored()
    {
        var ex = await Assert.ThrowsAsync<JobValidationException>(() => _client.EnqueueAsync("email", "email.send", new string('x', 2000)));

        Assert.Equal(JobValidationKind.TooLarge, ex.Kind);
        Assert.Empty(await AllJobsAsync());
    }

    [Fact]
    public async Task Bad_options_are_refused_before_the_store()
    {
        await Assert.ThrowsAsync<JobValidationException>(() => _client.EnqueueAsync("email", "t", 1, o => o.MaxAttempts(0)));
        await Assert.ThrowsAsync<JobValidationException>(() => _client.EnqueueAsync("email", "t", 1, o => o.Timeout(TimeSpan.Zero)));
        await Assert.ThrowsAsync<JobValidationException>(() => _client.EnqueueAsync("email", "t", 1, o => o.Delay(TimeSpan.FromSeconds(-1))));
        await Assert.ThrowsAsync<JobValidationException>(() => _client.EnqueueAsync("email", "t", 1, o => o.DependsOn(0)));

        Assert.Empty(await AllJobsAsync());
    }

    [Fact]
    public async Task A_delay_sets_run_at_from_the_clients_clock()
    {
        var id = await _client.EnqueueAsync("email", "t", 1, o => o.Delay(TimeSpan.FromMinutes(5)));

        var job = await _client.GetAsync(id);
        Assert.Equal(_time.GetUtcNow().AddMinutes(5), job!.RunAt);
        Assert.Equal(JobState.Scheduled, job.State);
    }

    [Fact]
    public async Task A_lifetime_sets_expires_at_from_the_clients_clock()
    {
        var id = await _client.EnqueueAsync("email", "t", 1, o => o.Lifetime(TimeSpan.FromHours(1)));

        Assert.Equal(_time.GetUtcNow().AddHours(1), (await _client.GetAsync(id))!.ExpiresAt);
    }

    [Fact]
    public async Task The_same_key_returns_the_first_id_while_it_is_live()
    {
        var first = await _client.EnqueueAsync("email", "t", 1, o => o.Key("order-7"));
        var second = await _client.EnqueueJsonAsync("email", "t", "2", o => o.Key("order-7"));

        Assert.Equal(first, second.Id);
        Assert.True(second.Deduplicated);
        Assert.Single(await AllJobsAsync());
    }

    [Fact]
    public async Task EnqueueMany_is_atomic_when_one_job_is_invalid()
    {
        var good = _client.Build("email", "t", "1");
        var bad = good with { Queue = "NOPE" };

        var ex = await Assert.ThrowsAsync<JobValidationException>(() => _client.EnqueueManyAsync([good, good, bad]));

        Assert.Contains("Job 2", ex.Reason, StringComparison.Ordinal);
        Assert.Empty(await AllJobsAsync());
    }

    [Fact]
    public async Task EnqueueMany_is_atomic_when_a_dependency_is_unknown()
    {
        var good = _client.Build("email", "t", "1");

        await Assert.ThrowsAsync<JobValidationException>(() => _client.EnqueueManyAsync([good, good with { DependsOn = [12345] }]));

        Assert.Empty(await AllJobsAsync());
    }

    [Fact]
    public async Task EnqueueMany_stores_every_job_in_order()
    {
        var results = await _client.EnqueueManyAsync([_client.Build("a", "t", "1"), _client.Build("b", "t", "2")]);

        Assert.Equal(2, results.Count);
        Assert.Equal("b", (await _client.GetAsync(results[1].Id))!.Queue);
    }

    [Fact]
    public async Task List_refuses_a_bad_page_size_or_cursor()
    {
        await Assert.ThrowsAsync<JobValidationException>(() => _client.ListAsync(new JobListQuery(Limit: 0)));
        await Assert.ThrowsAsync<JobValidationException>(() => _client.ListAsync(new JobListQuery(Limit: JobListQuery.MaxLimit + 1)));
        await Assert.ThrowsAsync<JobValidationException>(() => _client.ListAsync(new JobListQuery(BeforeId: 0)));
        await Assert.ThrowsAsync<JobValidationException>(() => _client.ListAsync(new JobListQuery(Queue: "UPPER")));
    }

    [Fact]
    public async Task Cancel_and_retry_go_through_to_the_store()
    {
        var id = await _client.EnqueueAsync("email", "t", 1);

        Assert.Equal(CancelResult.Cancelled, await _client.CancelAsync(id));
        Assert.Equal(AdminResult.Ok, await _client.RetryAsync(id));
        Assert.Equal(JobState.Ready, (await _client.GetAsync(id))!.State);
    }
}
