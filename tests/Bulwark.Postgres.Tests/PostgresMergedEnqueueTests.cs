using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.StoreContract;
using Npgsql;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>
/// Single-job enqueues from many producers that meet in one group-commit batch are inserted with one statement, yet each
/// caller gets its own job, and a job the database refuses fails only its own caller.
/// </summary>
public sealed class PostgresMergedEnqueueTests() : PostgresSchemaTests("pgmerge")
{
    private const int Producers = 50;

    [Fact]
    public async Task Single_enqueues_merged_into_one_insert_each_get_their_own_job_in_call_order()
    {
        var mergedBefore = Store.WriterMergedEnqueues;
        var (first, calls) = await EnqueueBehindBlockedWriterAsync(i => TestJobs.New("merged", payload: $$"""{"n":{{i}}}"""));

        await first;
        var ids = new List<long>();
        for (var i = 0; i < Producers; i++)
        {
            var result = Assert.Single(await calls[i]);
            Assert.False(result.Deduplicated);
            Assert.Equal($$"""{"n":{{i}}}""", (await Store.GetJobAsync(result.Id))!.Payload);
            ids.Add(result.Id);
        }

        Assert.Equal(ids.Order(), ids);
        Assert.Equal(Producers, ids.Distinct().Count());
        Assert.True(Store.WriterMergedEnqueues - mergedBefore >= Producers, $"only {Store.WriterMergedEnqueues - mergedBefore} of {Producers} waiting enqueues were merged");
    }

    [Fact]
    public async Task A_job_the_database_refuses_in_a_merged_insert_fails_only_its_caller()
    {
        const int Refused = 7;

        // Every job the core validator lets through is storable, so a test-only constraint makes the database refuse one.
        await ExecuteAsync($"ALTER TABLE \"{Schema}\".jobs ADD CONSTRAINT test_refuses_poison CHECK (payload <> '\"poison\"')");
        try
        {
            var (first, calls) = await EnqueueBehindBlockedWriterAsync(i => i == Refused
                ? TestJobs.New("refusal", payload: "\"poison\"")
                : TestJobs.New("refusal", payload: $$"""{"n":{{i}}}"""));

            await first;
            var refused = await Assert.ThrowsAsync<PostgresException>(() => calls[Refused]);
            Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
            for (var i = 0; i < Producers; i++)
            {
                if (i != Refused)
                {
                    Assert.Equal($$"""{"n":{{i}}}""", (await Store.GetJobAsync(Assert.Single(await calls[i]).Id))!.Payload);
                }
            }

            var stored = await Store.ListJobsAsync(new JobListQuery { Queue = "refusal", Limit = 200 });
            Assert.Equal(Producers - 1, stored.Items.Count);
            Assert.DoesNotContain(stored.Items, j => j.Payload == "\"poison\"");
        }
        finally
        {
            await ExecuteAsync($"ALTER TABLE \"{Schema}\".jobs DROP CONSTRAINT test_refuses_poison");
        }
    }

    [Fact]
    public async Task A_NUL_character_that_PostgreSQL_text_cannot_hold_is_refused_by_validation_with_a_clear_message()
    {
        var ex = await Assert.ThrowsAsync<JobValidationException>(() => Store.EnqueueAsync([TestJobs.New("nul") with { TraceParent = "00-\0-01" }]));

        Assert.Equal("trace_parent", ex.Field);
        Assert.Empty((await Store.ListJobsAsync(new JobListQuery { Queue = "nul" })).Items);
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Holds a lock that blocks inserts, lets one enqueue block the writer on it, queues <see cref="Producers"/> single
    /// enqueues behind it (so they meet in the writer's next batch), then releases the lock.
    /// </summary>
    private async Task<(Task First, List<Task<IReadOnlyList<EnqueueResult>>> Calls)> EnqueueBehindBlockedWriterAsync(Func<int, NewJob> job)
    {
        await using var blocker = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await blocker.OpenAsync();
        await using var tx = await blocker.BeginTransactionAsync();
        await using (var lockJobs = new NpgsqlCommand($"LOCK TABLE \"{Schema}\".jobs IN SHARE ROW EXCLUSIVE MODE", blocker, tx))
        {
            await lockJobs.ExecuteNonQueryAsync();
        }

        var first = Store.EnqueueAsync([TestJobs.New("blocker")]);
        await WaitUntilWriterWaitsOnLockAsync(blocker, tx);

        var calls = Enumerable.Range(0, Producers).Select(i => Store.EnqueueAsync([job(i)])).ToList();
        await tx.CommitAsync();
        return (first, calls);
    }

    private async Task WaitUntilWriterWaitsOnLockAsync(NpgsqlConnection blocker, NpgsqlTransaction tx)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        await using var waiting = new NpgsqlCommand(
            "SELECT count(*) FROM pg_locks l WHERE NOT l.granted AND l.relation = to_regclass(@jobs)", blocker, tx);
        waiting.Parameters.AddWithValue("jobs", $"\"{Schema}\".jobs");
        while ((long)(await waiting.ExecuteScalarAsync())! == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the writer never waited on the lock");
            await Task.Delay(10);
        }
    }
}
