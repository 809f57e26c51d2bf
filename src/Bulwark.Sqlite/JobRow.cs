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

    internal static LeasedJob ReadLeased(SqliteDataReader r) => new()
    {
        Token = new LeaseToken(r.GetInt64(0), r.GetInt64(15)),
        Queue = r.GetString(1),
        Type = r.GetString(2),
        Payload = r.GetString(3),
        Priority = r.GetInt32(4),
        Attempt = r.GetInt32(14),
        MaxAttempts = r.GetInt32(9),
        Timeout = TimeSpan.FromMilliseconds(r.GetInt64(10)),
        Backoff = BackoffPolicy.Parse(r.GetString(11)),
        Checkpoint = r.IsDBNull(19) ? null : r.GetString(19),
        Progress = r.GetInt32(18),
        TraceParent = r.IsDBNull(22) ? null : r.GetString(22),
        CreatedAt = ToTime(r.GetInt64(7)),
        RunAt = ToTime(r.GetInt64(6)),
        LeaseExpiresAt = ToTime(r.GetInt64(17)),
        ExpiresAt = ToTime(r, 13),
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
