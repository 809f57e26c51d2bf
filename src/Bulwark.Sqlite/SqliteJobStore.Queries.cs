using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <inheritdoc />
    public Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken = default) =>
        ReadAsync(c => ReadJobs(c, SqliteSql.JobById, ("@id", jobId)).FirstOrDefault(), cancellationToken);

    /// <inheritdoc />
    public Task<JobSnapshot?> FindByKeyAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return ReadAsync(c =>
            ReadJobs(c, "SELECT " + JobRow.Columns + " FROM jobs WHERE key = @key", ("@key", key)).FirstOrDefault()
            ?? ReadJobs(c, SqliteSql.FindNewestKey, ("@key", key)).FirstOrDefault(), cancellationToken);
    }

    /// <inheritdoc />
    public Task<JobPage> ListJobsAsync(JobListQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > JobListQuery.MaxLimit)
        {
            throw new JobValidationException("limit", $"The page size must be between 1 and {JobListQuery.MaxLimit} (got {query.Limit}).");
        }

        if (query.Queue is not null)
        {
            JobValidator.ValidateQueue(query.Queue);
        }

        return ReadAsync(c =>
        {
            var before = query.BeforeId ?? long.MaxValue;
            var items = (query.Queue, query.State) switch
            {
                (not null, { } state) => ReadJobs(c, state.IsTerminal() ? SqliteSql.HistoryListByQueueAndState : SqliteSql.ListByQueueAndState,
                    ("@queue", query.Queue), ("@state", state.ToName()), ("@before", before), ("@limit", query.Limit + 1)),
                _ => ListMerged(c, query.Queue, query.State, before, query.Limit + 1),
            };
            var more = items.Count > query.Limit;
            if (more)
            {
                items.RemoveAt(items.Count - 1);
            }

            return new JobPage(items, more ? items[^1].Id : null);
        }, cancellationToken);
    }

    /// <summary>
    /// A page of jobs across the live and history tables (migration 6), newest first. Each index range that can hold the
    /// page gives its newest ids below the cursor — each table's primary key for all jobs, each state's
    /// <c>(queue, state, id)</c> range of one queue, each queue's range of one state — the ids are merged here, and only
    /// the page's rows are read: the cost grows with the number of ranges times the page size, never with the number of jobs.
    /// </summary>
    private static List<JobSnapshot> ListMerged(SqliteConnection c, string? queue, JobState? state, long before, int limit)
    {
        var ranges = new List<(string Sql, string? Queue, JobState? State)>();
        if (queue is null && state is null)
        {
            ranges.Add((SqliteSql.LiveIdsBefore, null, null));
            ranges.Add((SqliteSql.HistoryIdsBefore, null, null));
        }
        else if (state is null)
        {
            ranges.AddRange(JobStates.All.Select(s => (IdsOfState(s), queue, (JobState?)s)));
        }
        else
        {
            var names = state.Value.IsTerminal() ? SqliteSql.HistoryQueueNames : SqliteSql.LiveQueueNames;
            ranges.AddRange(Strings(c, names).Select(q => (IdsOfState(state.Value), (string?)q, state)));
        }

        var ids = new List<long>();
        foreach (var range in ranges)
        {
            using var command = Command(c, range.Sql, ("@queue", range.Queue), ("@state", range.State?.ToName()), ("@before", before), ("@limit", limit));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        if (ids.Count == 0)
        {
            return [];
        }

        ids.Sort((a, b) => b.CompareTo(a));
        var page = ids.Take(limit).Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return ReadJobs(c, SqliteSql.JobsByIds, ("@ids", "[" + string.Join(",", page) + "]"));

        static string IdsOfState(JobState s) => s.IsTerminal() ? SqliteSql.HistoryIdsByQueueAndState : SqliteSql.IdsByQueueAndState;
    }

    private static List<string> Strings(SqliteConnection c, string sql)
    {
        var list = new List<string>();
        using var command = Command(c, sql);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(reader.GetString(0));
        }

        return list;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<QueueStats>>(c =>
        {
            var counts = new SortedDictionary<string, Dictionary<JobState, long>>(StringComparer.Ordinal);
            var paused = new Dictionary<string, bool>(StringComparer.Ordinal);
            using (var command = Command(c, SqliteSql.CountByQueueAndState))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    Counts(reader.GetString(0))[JobRow.ParseState(reader.GetString(1))] = reader.GetInt64(2);
                }
            }

            using (var command = Command(c, "SELECT name, paused FROM queues"))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    Counts(reader.GetString(0));
                    paused[reader.GetString(0)] = reader.GetInt64(1) != 0;
                }
            }

            var result = new List<QueueStats>(counts.Count);
            foreach (var (queue, byState) in counts)
            {
                DateTimeOffset? oldest = null;
                if (byState[JobState.Ready] > 0)
                {
                    using var command = Command(c, SqliteSql.OldestReady, ("@queue", queue));
                    if (command.ExecuteScalar() is long ms)
                    {
                        oldest = JobRow.ToTime(ms);
                    }
                }

                result.Add(new QueueStats { Queue = queue, Counts = byState, Paused = paused.GetValueOrDefault(queue), OldestReadyAt = oldest });
            }

            return result;

            Dictionary<JobState, long> Counts(string queue)
            {
                if (!counts.TryGetValue(queue, out var byState))
                {
                    byState = JobStates.All.ToDictionary(s => s, _ => 0L);
                    counts.Add(queue, byState);
                }

                return byState;
            }
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<WorkerInfo>>(c =>
        {
            using var command = Command(c,
                "SELECT id, name, host, pid, queues, concurrency, started_at, state, active_jobs, memory_bytes, heartbeat_at FROM workers ORDER BY heartbeat_at DESC, id");
            using var reader = command.ExecuteReader();
            var workers = new List<WorkerInfo>();
            while (reader.Read())
            {
                var state = ParseWorkerState(reader.GetString(7));
                workers.Add(new WorkerInfo
                {
                    Registration = new WorkerRegistration
                    {
                        Id = reader.GetString(0),
                        Name = reader.GetString(1),
                        Host = reader.GetString(2),
                        ProcessId = reader.GetInt32(3),
                        Queues = JsonSerializer.Deserialize<string[]>(reader.GetString(4)) ?? [],
                        Concurrency = reader.GetInt32(5),
                        StartedAt = JobRow.ToTime(reader.GetInt64(6)),
                        State = state,
                        ActiveJobs = reader.GetInt32(8),
                        MemoryBytes = reader.GetInt64(9),
                    },
                    HeartbeatAt = JobRow.ToTime(reader.GetInt64(10)),
                    State = state,
                });
            }

            return workers;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit = 100, CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > JobListQuery.MaxLimit)
        {
            throw new JobValidationException("limit", $"The limit must be between 1 and {JobListQuery.MaxLimit} (got {limit}).");
        }

        var now = Now();
        return ReadAsync<IReadOnlyList<JobSnapshot>>(c => ReadJobs(c, SqliteSql.Stalled, ("@now", now), ("@limit", limit)), cancellationToken);
    }

    private static WorkerState ParseWorkerState(string name) => name switch
    {
        "active" => WorkerState.Active,
        "draining" => WorkerState.Draining,
        "stopped" => WorkerState.Stopped,
        "dead" => WorkerState.Dead,
        _ => throw new StoreCorruptException($"The workers table holds an unknown state '{name}'."),
    };

    private static List<JobSnapshot> ReadJobs(SqliteConnection c, string sql, params (string Name, object? Value)[] args)
    {
        var rows = new List<(long Id, Func<IReadOnlyList<long>, JobSnapshot> Build)>();
        using (var command = Command(c, sql, args))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                // Materialise each row now; its dependencies are read in one query afterwards.
                var snapshot = JobRow.ReadSnapshot(reader, []);
                rows.Add((snapshot.Id, deps => snapshot with { DependsOn = deps }));
            }
        }

        if (rows.Count == 0)
        {
            return [];
        }

        var dependencies = new Dictionary<long, List<long>>();
        var ids = string.Join(",", rows.Select(r => r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using (var command = Command(c, $"SELECT job_id, parent_id FROM job_dependencies WHERE job_id IN ({ids}) ORDER BY job_id, parent_id"))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                if (!dependencies.TryGetValue(id, out var list))
                {
                    dependencies[id] = list = [];
                }

                list.Add(reader.GetInt64(1));
            }
        }

        return rows.Select(r => dependencies.TryGetValue(r.Id, out var deps) ? r.Build(deps) : r.Build([])).ToList();
    }

    private static SqliteCommand Command(SqliteConnection c, string sql, params (string Name, object? Value)[] args)
    {
        var command = c.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in args)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}
