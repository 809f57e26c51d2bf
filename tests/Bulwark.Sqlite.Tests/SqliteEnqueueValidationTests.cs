using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Bulwark.Sqlite.Tests;

/// <summary>
/// A job validated once is not parsed again by the store, yet the store still refuses every invalid job: copies,
/// jobs validated against a larger payload limit, and jobs placed where their batch references do not hold.
/// </summary>
public sealed class SqliteEnqueueValidationTests : IAsyncLifetime, IDisposable
{
    private readonly TempDatabase _database = new();
    private SqliteJobStore _store = null!;

    public async Task InitializeAsync() =>
        _store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _database.Path, Time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)) });

    public async Task DisposeAsync() => await _store.DisposeAsync();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task A_copy_of_a_validated_job_with_a_broken_payload_is_refused_and_nothing_is_stored()
    {
        var valid = JobValidator.Validate(new NewJob { Queue = "q", Type = "t", Payload = "{}" });
        var broken = valid with { Payload = "{not json" };

        var error = await Assert.ThrowsAsync<JobValidationException>(() => _store.EnqueueAsync([valid, broken]));

        Assert.Equal("payload", error.Field);
        Assert.Empty((await _store.ListJobsAsync(new JobListQuery())).Items);
    }

    [Fact]
    public async Task A_copy_of_a_validated_job_with_a_bad_queue_name_is_refused()
    {
        var valid = JobValidator.Validate(new NewJob { Queue = "q", Type = "t", Payload = "{}" });

        var error = await Assert.ThrowsAsync<JobValidationException>(() => _store.EnqueueAsync([valid with { Queue = "Bad Queue!" }]));

        Assert.Equal("queue", error.Field);
    }

    [Fact]
    public async Task A_job_validated_against_a_larger_payload_limit_is_checked_against_the_stores_limit()
    {
        var payload = $$"""{"blob":"{{new string('x', JobDefaults.MaxPayloadBytes)}}"}""";
        var job = JobValidator.Validate(new NewJob { Queue = "q", Type = "t", Payload = payload }, maxPayloadBytes: 4 * JobDefaults.MaxPayloadBytes);

        var error = await Assert.ThrowsAsync<JobValidationException>(() => _store.EnqueueAsync([job]));

        Assert.Equal("payload", error.Field);
        Assert.Empty((await _store.ListJobsAsync(new JobListQuery())).Items);
    }

    [Fact]
    public async Task A_validated_job_whose_batch_reference_does_not_hold_where_it_is_placed_is_refused()
    {
        // Valid as entry 2 of some batch (it depends on entry 1), but sent alone it refers to nothing.
        var job = JobValidator.Validate(new NewJob { Queue = "q", Type = "t", Payload = "{}", DependsOnBatchIndexes = [1] }, index: 2);

        var error = await Assert.ThrowsAsync<JobValidationException>(() => _store.EnqueueAsync([job]));

        Assert.Equal("depends_on", error.Field);
    }

    [Fact]
    public async Task Validated_jobs_are_stored_with_their_fields()
    {
        var job = JobValidator.Validate(new NewJob { Queue = "q", Type = "t", Payload = """{"n":1}""", Priority = 4 });

        var id = (await _store.EnqueueAsync([job, job with { Priority = 7 }])).Select(r => r.Id).ToArray();

        Assert.Equal(4, (await _store.GetJobAsync(id[0]))!.Priority);
        Assert.Equal(7, (await _store.GetJobAsync(id[1]))!.Priority);
    }

    [Fact]
    public void Validation_leaves_a_jobs_value_equality_and_hash_code_unchanged()
    {
        NewJob Fresh() => new() { Queue = "q", Type = "t", Payload = "{}" };
        var validated = JobValidator.Validate(Fresh());

        Assert.Equal(Fresh(), validated);
        Assert.Equal(Fresh().GetHashCode(), validated.GetHashCode());
        Assert.Equal(validated, validated with { });
    }
}
