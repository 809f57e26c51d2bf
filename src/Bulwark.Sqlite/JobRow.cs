using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite;

/// <summary>Maps a <c>jobs</c> row (selected with <see cref="Columns"/>) to the model, and the model's values to column values.</summary>
internal static class JobRow
{
    internal const string Columns =
        "id, queue, type, payload, priority, state, run_at, created_at, updated_at, max_attempts, timeout_ms, backoff, key, expires_at, " +
        "attempt, lease_epoch, lease_owner, lease_expires_at, progress, checkpoint, result, errors, trace_parent, reason, cancel_requested, " +
        "started_at, finished_at, lost_leases";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    internal static JobSnapshot ReadSnapshot(SqliteDataReader r, IReadOnlyList<long> dependsOn) => new()
    {
        Id = r.GetInt64(0),
        Queue = r.GetString(1),
        Type = r.GetString(2),
        Payload = r.GetString(3),
        Priority = r.GetInt32(4),
        State = ParseState(r.GetString(5)),
        RunAt = ToTime(r.GetInt64(6)),
        CreatedAt = ToTime(r.GetInt64(7)),
        UpdatedAt = ToTime(r.GetInt64(8)),
        MaxAttempts = r.GetInt32(9),
        Timeout = TimeSpan.FromMilliseconds(r.GetInt64(10)),
        Backoff = BackoffPolicy.Parse(r.GetString(11)),
        Key = r.IsDBNull(12) ? null : r.GetString(12),
        DependsOn = dependsOn,
        ExpiresAt = ToTime(r, 13),
        Attempt = r.GetInt32(14),
        LeaseEpoch = r.GetInt64(15),
        LeaseOwner = r.IsDBNull(16) ? null : r.GetString(16),
        LeaseExpiresAt = ToTime(r, 17),
        Progress = r.GetInt32(18),
        Checkpoint = r.IsDBNull(19) ? null : r.GetString(19),
        Result = r.IsDBNull(20) ? null : r.GetString(20),
        Errors = ReadErrors(r.GetString(21)),
        TraceParent = r.IsDBNull(22) ? null : r.GetString(22),
        Reason = r.IsDBNull(23) ? null : r.GetString(23),
        CancelRequested = r.GetInt64(24) != 0,
        StartedAt = ToTime(r, 25),
        FinishedAt = ToTime(r, 26),
        LostLeases = r.GetInt32(27),
    };

    /// <summary>What a lease hands the worker, in the order <see cref="ReadLeased"/> reads: not the whole row (errors, result, …).</summary>
    internal const string LeasedColumns =
        "id, lease_epoch, queue, type, payload, priority, attempt, max_attempts, timeout_ms, backoff, checkpoint, progress, trace_parent, " +
        "created_at, run_at, lease_expires_at, expires_at, lost_leases";

    /// <summary>Reads the current row of a statement returning <see cref="LeasedColumns"/>.</summary>
    internal static LeasedJob ReadLeased(RawStatement r, Func<string, BackoffPolicy> backoff) => new()
    {
        Token = new LeaseToken(r.Int64(0), r.Int64(1)),
        Queue = r.Text(2)!,
        Type = r.Text(3)!,
        Payload = r.Text(4)!,
        Priority = (int)r.Int64(5),
        Attempt = (int)r.Int64(6),
        MaxAttempts = (int)r.Int64(7),
        Timeout = TimeSpan.FromMilliseconds(r.Int64(8)),
        Backoff = backoff(r.Text(9)!),
        Checkpoint = r.Text(10),
        Progress = (int)r.Int64(11),
        TraceParent = r.Text(12),
        CreatedAt = ToTime(r.Int64(13)),
        RunAt = ToTime(r.Int64(14)),
        LeaseExpiresAt = ToTime(r.Int64(15)),
        ExpiresAt = r.NullableInt64(16) is { } expires ? ToTime(expires) : null,
        LostLeases = (int)r.Int64(17),
    };

    internal static JobState ParseState(string name) =>
        JobStates.TryParse(name, out var state) ? state : throw new StoreCorruptException($"The jobs table holds an unknown state '{name}'.");

    internal static string ErrorJson(JobError error) => JsonSerializer.Serialize(error, Json);

    internal static IReadOnlyList<JobError> ReadErrors(string json) =>
        json is "[]" ? [] : JsonSerializer.Deserialize<JobError[]>(json, Json) ?? [];

    internal static long ToMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    internal static DateTimeOffset ToTime(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? ToTime(SqliteDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : ToTime(r.GetInt64(ordinal));
}
