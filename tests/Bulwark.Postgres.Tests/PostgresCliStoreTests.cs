using Bulwark.Jobs;
using Npgsql;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>The <c>bulwark</c> command pointed at PostgreSQL with <c>--store</c>: a URL or a connection string, the password never printed, and many processes migrating one fresh database at once.</summary>
[Collection(ProcessFleetCollection.Name)]
public sealed class PostgresCliStoreTests
{
    private const string Secret = "hunter2-never-printed";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Ten_bulwark_processes_migrating_one_fresh_database_at_once_all_succeed_with_one_schema_version()
    {
        await using var fleet = await ProcessFleet.CreateAsync("migrate");

        var runs = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            BulwarkProcess.RunAsync(CommandTimeout, "enqueue", "default", "demo.noop", "--store", fleet.Store, "--key", $"migrate-{i}")));

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Output}"));
        await using var connection = new NpgsqlConnection(fleet.Store);
        await connection.OpenAsync();
        await using var versions = new NpgsqlCommand("SELECT count(*), count(DISTINCT version), max(version) FROM bulwark.schema_migrations", connection);
        await using (var reader = await versions.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(PostgresMigrations.All.Count, reader.GetInt64(0));
            Assert.Equal(PostgresMigrations.All.Count, reader.GetInt64(1));
            Assert.Equal(PostgresMigrations.Latest, reader.GetInt32(2));
        }

        await using var jobs = new NpgsqlCommand("SELECT count(*) FROM bulwark.jobs WHERE state = 'ready'", connection);
        Assert.Equal(10L, await jobs.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Eight_bulwark_processes_enqueueing_one_key_at_once_store_one_job_and_all_print_its_id()
    {
        await using var fleet = await ProcessFleet.CreateAsync("onekey");
        // One process first, so the schema exists and the race is between enqueues, not migrations.
        var first = await BulwarkProcess.RunAsync(CommandTimeout, "enqueue", "default", "demo.noop", "--store", fleet.Store);
        Assert.True(first.ExitCode == 0, first.Output);

        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            BulwarkProcess.RunAsync(CommandTimeout, "enqueue", "orders", "demo.noop", "--store", fleet.Store, "--key", "order-77")));

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Output}"));
        Assert.DoesNotContain(runs, r => r.Output.Contains("23505", StringComparison.Ordinal) || r.Output.Contains("duplicate key", StringComparison.Ordinal));
        await using var connection = new NpgsqlConnection(fleet.Store);
        await connection.OpenAsync();
        await using var jobs = new NpgsqlCommand("SELECT id FROM bulwark.jobs WHERE key = 'order-77'", connection);
        var id = Assert.IsType<long>(await jobs.ExecuteScalarAsync());
        await using var count = new NpgsqlCommand("SELECT count(*) FROM bulwark.jobs WHERE queue = 'orders'", connection);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
        var printed = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(runs, r => Assert.Contains(printed, r.Output.Split('\n').Select(line => line.Trim())));
    }

    [Fact]
    public async Task Admin_commands_accept_a_postgres_url_or_a_connection_string_and_never_print_the_password()
    {
        await using var fleet = await ProcessFleet.CreateAsync("cli");
        var url = Url(fleet.Store, Secret);
        var keywords = new NpgsqlConnectionStringBuilder(fleet.Store) { Password = Secret }.ConnectionString;

        var enqueue = await BulwarkProcess.RunAsync(CommandTimeout, "enqueue", "reports", "demo.noop", "--store", url);
        var queues = await BulwarkProcess.RunAsync(CommandTimeout, "queues", "--store", keywords, "--json");

        Assert.True(enqueue.ExitCode == 0, enqueue.Output);
        Assert.True(queues.ExitCode == 0, queues.Output);
        Assert.Contains("\"reports\"", queues.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, enqueue.Output + queues.Output, StringComparison.Ordinal);
        await using var store = await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = fleet.Store, Listen = false });
        Assert.Equal(1, (await store.GetQueuesAsync()).Single(q => q.Queue == "reports")[JobState.Ready]);
    }

    [Fact]
    public async Task Serve_and_worker_show_the_store_with_its_password_redacted()
    {
        await using var fleet = await ProcessFleet.CreateAsync("redact");
        var url = Url(fleet.Store, Secret);
        var keywords = new NpgsqlConnectionStringBuilder(fleet.Store) { Password = Secret }.ConnectionString;

        await using var worker = BulwarkProcess.Start("worker", "--store", url, "--name", "redacted");
        await using var server = BulwarkProcess.Start("serve", "--store", keywords, "--workers", "0", "--urls", "http://127.0.0.1:0");
        var workerLine = await worker.WaitForLineAsync(l => l.StartsWith("bulwark worker redacted", StringComparison.Ordinal), CommandTimeout);
        var serverLine = await server.WaitForLineAsync(l => l.TrimStart().StartsWith("store:", StringComparison.Ordinal), CommandTimeout);
        await worker.WaitForLineAsync(l => l.Contains(" registered: name redacted", StringComparison.Ordinal), CommandTimeout);

        Assert.Contains(":***@", workerLine, StringComparison.Ordinal);
        Assert.Contains("Password=***", serverLine, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, worker.Output + server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_connection_string_is_refused_with_the_reason_and_without_the_password()
    {
        var (code, output) = await BulwarkProcess.RunAsync(CommandTimeout, "worker", "--store", $"Host=127.0.0.1;Port=not-a-port;Password={Secret}");

        Assert.Equal(2, code);
        Assert.Contains("not a valid Npgsql connection string", output, StringComparison.Ordinal);
        Assert.Contains("Password=***", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, output, StringComparison.Ordinal);
    }

    private static string Url(string connectionString, string password)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"postgres://{Uri.EscapeDataString(b.Username!)}:{Uri.EscapeDataString(password)}@{b.Host}:{b.Port}/{Uri.EscapeDataString(b.Database!)}";
    }
}
