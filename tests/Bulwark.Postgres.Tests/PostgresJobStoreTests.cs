using System.Diagnostics;
using Bulwark.Jobs;
using Bulwark.StoreContract;
using Bulwark.Storage;
using Npgsql;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>What only the PostgreSQL store promises: transactional enqueue, concurrent migrations, the ready-index plan, NOTIFY wake-ups, transient-error retry.</summary>
public sealed partial class PostgresJobStoreTests : IAsyncLifetime
{
    private readonly string _schema = PostgresTestDatabase.NewSchema("pgstore");
    private readonly List<PostgresJobStore> _stores = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await PostgresTestDatabase.DropSchemaAsync(_schema);
    }

    private async Task<PostgresJobStore> OpenAsync(bool listen = false, string? connectionString = null)
    {
        var store = await PostgresJobStore.OpenAsync(new PostgresStoreOptions
        {
            ConnectionString = connectionString ?? PostgresTestDatabase.ConnectionString,
            Schema = _schema,
            Listen = listen,
        });
        _stores.Add(store);
        return store;
    }

    [Fact]
    public async Task A_job_enqueued_in_a_committed_transaction_exists()
    {
        var store = await OpenAsync();
        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();

        var results = await store.EnqueueAsync(tx, [TestJobs.New("orders", key: "order-7")]);
        Assert.Null(await store.GetJobAsync(results[0].Id));
        await tx.CommitAsync();

        var job = await store.GetJobAsync(results[0].Id);
        Assert.NotNull(job);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal("order-7", job.Key);
    }

    [Fact]
    public async Task A_job_enqueued_in_a_rolled_back_transaction_does_not_exist()
    {
        var store = await OpenAsync();
        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using (var tx = await connection.BeginTransactionAsync())
        {
            var results = await store.EnqueueAsync(tx, [TestJobs.New("orders", key: "order-8"), TestJobs.New("orders")]);
            Assert.Equal(2, results.Count);
            await tx.RollbackAsync();
        }

        Assert.Empty((await store.ListJobsAsync(new JobListQuery())).Items);
        Assert.Null(await store.FindByKeyAsync("order-8"));
        Assert.Empty(await store.LeaseAsync(new LeaseRequest("w1", ["orders"], 10, TimeSpan.FromSeconds(10))));
        Assert.False((await store.EnqueueAsync([TestJobs.New("orders", key: "order-8")]))[0].Deduplicated);
    }

    [Fact]
    public async Task Ten_stores_opening_at_once_migrate_the_schema_exactly_once()
    {
        using var start = new ManualResetEventSlim(false);
        var opens = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresTestDatabase.ConnectionString, Schema = _schema, Listen = false });
        })).ToArray();
        start.Set();
        var stores = await Task.WhenAll(opens);
        _stores.AddRange(stores);

        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand($"SELECT count(*), count(DISTINCT version), max(version) FROM \"{_schema}\".schema_migrations", connection);
        await using var reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(PostgresMigrations.All.Count, reader.GetInt64(0));
        Assert.Equal(PostgresMigrations.All.Count, reader.GetInt64(1));
        Assert.Equal(PostgresMigrations.Latest, reader.GetInt32(2));
        var ids = await Task.WhenAll(stores.Select(s => s.EnqueueAsync([TestJobs.New()])));
        Assert.Equal(10, ids.Select(r => r[0].Id).Distinct().Count());
    }

    [Fact]
    public async Task Ten_processes_migrating_at_once_all_succeed_and_apply_each_version_once()
    {
        // Separate psql processes racing on the same advisory lock protocol the store uses, against an empty schema;
        // then a store opens and finds nothing left to do.
        var sql = string.Join(
            "\n",
            "BEGIN;",
            $"SELECT pg_advisory_xact_lock(hashtextextended('bulwark.migrate.{_schema}', 0));",
            $"CREATE SCHEMA IF NOT EXISTS \"{_schema}\";",
            $"CREATE TABLE IF NOT EXISTS \"{_schema}\".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());",
            $"SELECT coalesce(max(version), 0) AS v FROM \"{_schema}\".schema_migrations \\gset",
            "\\if :v",
            "\\else",
            PostgresMigrations.All[0].Sql.Replace("{s}", $"\"{_schema}\"", StringComparison.Ordinal),
            $"INSERT INTO \"{_schema}\".schema_migrations (version, name) VALUES (1, 'psql');",
            "\\endif",
            "COMMIT;");
        var file = Path.Combine(Path.GetTempPath(), $"{_schema}.sql");
        await File.WriteAllTextAsync(file, sql);
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(PostgresTestDatabase.ConnectionString);
            var processes = Enumerable.Range(0, 10).Select(_ => Process.Start(new ProcessStartInfo("psql",
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", builder.Host!, "-p", builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", builder.Username ?? "postgres", "-d", builder.Database!, "-f", file])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            })!).ToList();
            foreach (var process in processes)
            {
                var stderr = await process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                Assert.True(process.ExitCode == 0, $"psql exited {process.ExitCode}: {stderr}");
                process.Dispose();
            }
        }
        finally
        {
            File.Delete(file);
        }

        var store = await OpenAsync();
        Assert.Single(await store.EnqueueAsync([TestJobs.New()]));
        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"{_schema}\".schema_migrations", connection);
        Assert.Equal((long)PostgresMigrations.All.Count, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task The_lease_statement_reads_the_partial_ready_index()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Enumerable.Range(0, 2000).Select(i => TestJobs.New(i % 2 == 0 ? "bulk" : "other", priority: i % 5)).ToArray());
        // Claimed rows must not be in the way: lease most of them so they are running, not ready.
        await store.LeaseAsync(new LeaseRequest("w1", ["bulk", "other"], 1800, TimeSpan.FromMinutes(5)));
        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using (var analyze = new NpgsqlCommand($"ANALYZE \"{_schema}\".jobs", connection))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        var text = await LeasePlan.ExplainLeaseAsync(connection, _schema, "bulk", 10);
        Assert.True(text.Contains("Index Scan using jobs_ready_idx", StringComparison.Ordinal), text);
        Assert.False(text.Contains("Seq Scan", StringComparison.Ordinal), text);
    }

    [Fact]
    public async Task An_enqueue_on_another_connection_wakes_a_listening_store()
    {
        var queue = "notify-" + Guid.NewGuid().ToString("N")[..8];
        var listener = await OpenAsync(listen: true);
        var producer = await OpenAsync();

        var woken = WaitForQueueAsync(listener, queue, TimeSpan.FromSeconds(30));
        await producer.EnqueueAsync([TestJobs.New(queue)]);

        Assert.True(await woken, "the listening store was not woken by the enqueue on another connection");
    }

    [Fact]
    public async Task A_transactional_enqueue_wakes_listeners_only_when_it_commits()
    {
        var queue = "notify-" + Guid.NewGuid().ToString("N")[..8];
        var listener = await OpenAsync(listen: true);
        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await listener.EnqueueAsync(tx, [TestJobs.New(queue)]);

        var woken = WaitForQueueAsync(listener, queue, TimeSpan.FromSeconds(30));
        await tx.CommitAsync();

        Assert.True(await woken, "the commit did not notify");
    }

    [Fact]
    public async Task Notifications_feed_the_hosts_job_signal()
    {
        var queue = "notify-" + Guid.NewGuid().ToString("N")[..8];
        var signal = new Bulwark.Workers.JobSignal();
        var listener = await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresTestDatabase.ConnectionString, Schema = _schema, Signal = signal });
        _stores.Add(listener);
        var producer = await OpenAsync();

        var stopwatch = Stopwatch.StartNew();
        var waiting = signal.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System, CancellationToken.None);
        await producer.EnqueueAsync([TestJobs.New(queue)]);
        await waiting;

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"the signal was not pulsed (waited {stopwatch.Elapsed})");
    }

    [Fact]
    public async Task A_refused_operation_in_a_group_commit_batch_does_not_sink_its_neighbours()
    {
        var store = await OpenAsync();
        var tasks = Enumerable.Range(0, 60)
            .Select(i => store.EnqueueAsync([i % 3 == 0 ? TestJobs.New("mixed", dependsOn: [long.MaxValue - i]) : TestJobs.New("mixed")]))
            .ToArray();

        var outcomes = await Task.WhenAll(tasks.Select(async t =>
        {
            try
            {
                return (await t)[0].Id;
            }
            catch (JobValidationException)
            {
                return -1L;
            }
        }));

        Assert.Equal(20, outcomes.Count(id => id == -1));
        Assert.Equal(40, outcomes.Where(id => id > 0).Distinct().Count());
        var stats = (await store.GetQueuesAsync()).Single(q => q.Queue == "mixed");
        Assert.Equal(40, stats[JobState.Ready]);
    }

    [Fact]
    public async Task A_write_after_the_server_dropped_the_connections_is_retried_and_succeeds()
    {
        var app = "bulwark-test-" + Guid.NewGuid().ToString("N")[..8];
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresTestDatabase.ConnectionString) { ApplicationName = app }.ConnectionString;
        var store = await OpenAsync(connectionString: connectionString);
        var first = (await store.EnqueueAsync([TestJobs.New()]))[0].Id;

        await using (var admin = new NpgsqlConnection(PostgresTestDatabase.ConnectionString))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @app", admin);
            kill.Parameters.AddWithValue("app", app);
            Assert.True((long)(await kill.ExecuteScalarAsync())! >= 1, "no pooled connection of the store was found to terminate");
        }

        var second = (await store.EnqueueAsync([TestJobs.New()]))[0].Id;
        Assert.True(second > first);
        Assert.NotNull(await store.GetJobAsync(second));
    }

    [Fact]
    public async Task A_bad_schema_name_is_refused_with_what_to_change()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresTestDatabase.ConnectionString, Schema = "Bad-Name" }));
        Assert.Contains("lower-case letters", ex.Message, StringComparison.Ordinal);
    }

    private static async Task<bool> WaitForQueueAsync(PostgresJobStore store, string queue, TimeSpan timeout)
    {
        // Other test classes share the channel: wait for this queue's notification, ignoring theirs.
        var deadline = DateTimeOffset.UtcNow + timeout;
        var first = store.WaitForJobsAsync(timeout);
        var next = first;
        while (DateTimeOffset.UtcNow < deadline)
        {
            var got = await next;
            if (got == queue)
            {
                return true;
            }

            if (got is null)
            {
                return false;
            }

            next = store.WaitForJobsAsync(deadline - DateTimeOffset.UtcNow);
        }

        return false;
    }
}
