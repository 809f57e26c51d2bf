using Bulwark.Storage;
using Bulwark.StoreContract;
using Npgsql;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>
/// The connection drops while COMMIT is under way (a real proxy cutting the real socket at that message): the store
/// asks the database what became of the transaction instead of running the batch again, so an unkeyed enqueue is
/// stored exactly once whichever way the COMMIT went.
/// </summary>
public sealed class PostgresLostCommitTests : IAsyncLifetime
{
    private readonly string _schema = PostgresTestDatabase.NewSchema("pglostcommit");
    private readonly CommitCuttingProxy _proxy = new(PostgresTestDatabase.ConnectionString);
    private readonly CapturingLoggerFactory _logs = new();
    private PostgresJobStore _store = null!;

    public async Task InitializeAsync() =>
        _store = await PostgresJobStore.OpenAsync(new PostgresStoreOptions
        {
            ConnectionString = _proxy.ConnectionString, Schema = _schema, Listen = false, LoggerFactory = _logs,
        });

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _proxy.DisposeAsync();
        await PostgresTestDatabase.DropSchemaAsync(_schema);
    }

    [Fact]
    public async Task An_enqueue_whose_commit_answer_is_lost_is_stored_once_and_answered_with_its_id()
    {
        _proxy.CutNextCommit(CommitCuttingProxy.CutMode.AfterCommitReachesTheServer);

        var result = Assert.Single(await _store.EnqueueAsync([TestJobs.New("lost-answer")]));

        Assert.Equal(1, _proxy.Cuts);
        Assert.Equal([result.Id], await StoredIdsAsync("lost-answer"));
        Assert.Contains(_logs.Entries, e => e.EventId == 5005 && e.Message.Contains("the database committed it", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_enqueue_whose_commit_never_reached_the_server_is_run_again_and_stored_once()
    {
        _proxy.CutNextCommit(CommitCuttingProxy.CutMode.BeforeCommitReachesTheServer);

        var result = Assert.Single(await _store.EnqueueAsync([TestJobs.New("lost-commit")]));

        Assert.Equal(1, _proxy.Cuts);
        Assert.Equal([result.Id], await StoredIdsAsync("lost-commit"));
        Assert.Contains(_logs.Entries, e => e.EventId == 5006);
    }

    [Fact]
    public async Task A_lease_whose_commit_answer_is_lost_is_not_taken_twice()
    {
        var ids = (await _store.EnqueueAsync([TestJobs.New("lost-lease"), TestJobs.New("lost-lease")])).Select(r => r.Id).ToArray();
        _proxy.CutNextCommit(CommitCuttingProxy.CutMode.AfterCommitReachesTheServer);

        var leased = await _store.LeaseAsync(new LeaseRequest("w1", ["lost-lease"], 1, TimeSpan.FromMinutes(5)));

        // Run again, the batch would have leased the other job too, to a worker that never hears of it.
        Assert.Equal(1, _proxy.Cuts);
        Assert.Equal(ids[0], Assert.Single(leased).Id);
        Assert.Equal(["ready"], await QueryAsync<string>($"SELECT state::text FROM \"{_schema}\".jobs WHERE id = {ids[1]}"));
    }

    private Task<List<long>> StoredIdsAsync(string queue) => QueryAsync<long>($"SELECT id FROM \"{_schema}\".jobs WHERE queue = '{queue}' ORDER BY id");

    private static async Task<List<T>> QueryAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetFieldValue<T>(0));
        }

        return rows;
    }
}
