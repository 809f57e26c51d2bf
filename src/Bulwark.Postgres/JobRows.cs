using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;
using Npgsql;

namespace Bulwark.Postgres;

/// <summary>Maps job and worker rows to the core records. Columns are read by position, in the order of <see cref="Columns"/>.</summary>
internal static class JobRows
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public const string Columns =
        "{a}id, {a}queue, {a}type, {a}payload, {a}priority, {a}state, {a}run_at, {a}created_at, {a}updated_at, {a}max_attempts, {a}timeout_ticks, " +
        "{a}backoff, {a}key, {a}depends_on, {a}expires_at, {a}attempt, {a}lease_epoch, {a}lease_owner, {a}lease_expires_at, {a}progress, " +
        "{a}checkpoint, {a}result, {a}errors::text, {a}trace_parent, {a}reason, {a}cancel_requested, {a}started_at, {a}finished_at, {a}lost_leases";

    public static string ColumnsOf(string alias) => Columns.Replace("{a}", alias.Length == 0 ? "" : alias + ".", StringComparison.Ordinal);

    public static string SerializeErrors(JobError error) => JsonSerializer.Serialize(new[] { error }, Json);

    /// <summary>A SQL expression appending one store-made error record (crash, expiry, dependency) judged at the store's now.</summary>
    public static string ErrorJson(string attempt, string worker, string startedAt, FailureCategory category, string message) =>
        $"jsonb_build_array(jsonb_build_object('attempt', {attempt}, 'workerId', {worker}, 'startedAt', {startedAt}, 'endedAt', @now, " +
        $"'category', {(int)category}, 'message', {message}, 'stackTrace', NULL, 'exceptionType', NULL))";

    public static JobSnapshot ReadJob(NpgsqlDataReader r)
    {
        var errorsText = r.GetString(22);
        return new JobSnapshot
        {
            Id = r.GetInt64(0),
            Queue = r.GetString(1),
            Type = r.GetString(2),
            Payload = r.GetString(3),
            Priority = r.GetInt32(4),
            State = JobStates.Parse(r.GetString(5)),
            RunAt = r.GetFieldValue<DateTimeOffset>(6),
            CreatedAt = r.GetFieldValue<DateTimeOffset>(7),
            UpdatedAt = r.GetFieldValue<DateTimeOffset>(8),
            MaxAttempts = r.GetInt32(9),
            Timeout = TimeSpan.FromTicks(r.GetInt64(10)),
            Backoff = BackoffPolicy.Parse(r.GetString(11)),
            Key = r.IsDBNull(12) ? null : r.GetString(12),
            DependsOn = r.GetFieldValue<long[]>(13),
            ExpiresAt = r.IsDBNull(14) ? null : r.GetFieldValue<DateTimeOffset>(14),
            Attempt = r.GetInt32(15),
            LeaseEpoch = r.GetInt64(16),
            LeaseOwner = r.IsDBNull(17) ? null : r.GetString(17),
            LeaseExpiresAt = r.IsDBNull(18) ? null : r.GetFieldValue<DateTimeOffset>(18),
            Progress = r.GetInt32(19),
            Checkpoint = r.IsDBNull(20) ? null : r.GetString(20),
            Result = r.IsDBNull(21) ? null : r.GetString(21),
            Errors = JsonSerializer.Deserialize<List<JobError>>(errorsText, Json) ?? [],
            TraceParent = r.IsDBNull(23) ? null : r.GetString(23),
            Reason = r.IsDBNull(24) ? null : r.GetString(24),
            CancelRequested = r.GetBoolean(25),
            StartedAt = r.IsDBNull(26) ? null : r.GetFieldValue<DateTimeOffset>(26),
            FinishedAt = r.IsDBNull(27) ? null : r.GetFieldValue<DateTimeOffset>(27),
            LostLeases = r.GetInt32(28),
        };
    }

    /// <summary>The columns a lease hands out, in the order <see cref="ReadLeased"/> reads them.</summary>
    public const string LeasedColumns =
        "{a}id, {a}lease_epoch, {a}queue, {a}type, {a}payload, {a}priority, {a}attempt, {a}max_attempts, {a}timeout_ticks, {a}backoff, " +
        "{a}checkpoint, {a}progress, {a}trace_parent, {a}created_at, {a}run_at, {a}lease_expires_at, {a}expires_at, {a}lost_leases";

    public static string LeasedColumnsOf(string alias) => LeasedColumns.Replace("{a}", alias + ".", StringComparison.Ordinal);

    public static LeasedJob ReadLeased(NpgsqlDataReader r, BackoffTexts backoffs) => new()
    {
        Token = new LeaseToken(r.GetInt64(0), r.GetInt64(1)),
        Queue = r.GetString(2),
        Type = r.GetString(3),
        Payload = r.GetString(4),
        Priority = r.GetInt32(5),
        Attempt = r.GetInt32(6),
        MaxAttempts = r.GetInt32(7),
        Timeout = TimeSpan.FromTicks(r.GetInt64(8)),
        Backoff = backoffs.Parse(r.GetString(9)),
        Checkpoint = r.IsDBNull(10) ? null : r.GetString(10),
        Progress = r.GetInt32(11),
        TraceParent = r.IsDBNull(12) ? null : r.GetString(12),
        CreatedAt = r.GetFieldValue<DateTimeOffset>(13),
        RunAt = r.GetFieldValue<DateTimeOffset>(14),
        LeaseExpiresAt = r.IsDBNull(15) ? throw new InvalidOperationException($"Job {r.GetInt64(0)} was leased without a lease expiry.") : r.GetFieldValue<DateTimeOffset>(15),
        ExpiresAt = r.IsDBNull(16) ? null : r.GetFieldValue<DateTimeOffset>(16),
        LostLeases = r.GetInt32(17),
    };

    public const string WorkerColumns = "id, name, host, pid, queues, concurrency, started_at, state, active_jobs, memory_bytes, heartbeat_at";

    public static WorkerInfo ReadWorker(NpgsqlDataReader r)
    {
        var state = WorkerStateOf(r.GetString(7));
        return new WorkerInfo
        {
            Registration = new WorkerRegistration
            {
                Id = r.GetString(0),
                Name = r.GetString(1),
                Host = r.GetString(2),
                ProcessId = r.GetInt32(3),
                Queues = r.GetFieldValue<string[]>(4),
                Concurrency = r.GetInt32(5),
                StartedAt = r.GetFieldValue<DateTimeOffset>(6),
                State = state,
                ActiveJobs = r.GetInt32(8),
                MemoryBytes = r.GetInt64(9),
            },
            HeartbeatAt = r.GetFieldValue<DateTimeOffset>(10),
            State = state,
        };
    }

    public static string NameOf(WorkerState state) => state switch
    {
        WorkerState.Active => "active",
        WorkerState.Draining => "draining",
        WorkerState.Stopped => "stopped",
        WorkerState.Dead => "dead",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown worker state."),
    };

    public static WorkerState WorkerStateOf(string name) => name switch
    {
        "active" => WorkerState.Active,
        "draining" => WorkerState.Draining,
        "stopped" => WorkerState.Stopped,
        "dead" => WorkerState.Dead,
        _ => throw new StoreCorruptException($"Unknown worker state '{name}' in the workers table."),
    };
}
