using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Npgsql;
using NpgsqlTypes;

namespace Bulwark.Postgres;

public sealed partial class PostgresJobStore
{
    private const string CircuitColumns = "c.type, c.worker_id, c.state, c.failures, c.opened_at, c.reset_at";

    /// <inheritdoc />
    public Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateType(type);
        return WriteAsync(async (c, tx, ct) =>
        {
            // Opening an open breaker keeps its "since": the outage started then.
            await using (var insert = Command(c, tx, """
                INSERT INTO {s}.circuit_breakers (type, worker_id, state, failures, opened_at, reset_at, updated_at)
                VALUES (@type, '', 'open', 0, @now, NULL, @now) ON CONFLICT (type, worker_id) DO NOTHING
                """))
            {
                Add(insert, "type", NpgsqlDbType.Text, type);
                await insert.ExecuteNonQueryAsync(ct);
            }

            await using var select = Command(c, tx, $"SELECT {CircuitColumns} FROM {{s}}.circuit_breakers c WHERE c.type = @type AND c.worker_id = ''");
            Add(select, "type", NpgsqlDbType.Text, type);
            await using var reader = await select.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return ReadCircuit(reader);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateType(type);
        return WriteAsync(async (c, tx, ct) =>
        {
            await using var delete = Command(c, tx, "DELETE FROM {s}.circuit_breakers WHERE type = @type AND worker_id = ''");
            Add(delete, "type", NpgsqlDbType.Text, type);
            return await delete.ExecuteNonQueryAsync(ct) == 1;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task ReportCircuitsAsync(string workerId, IReadOnlyList<CircuitBreakerRecord> breakers, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(breakers);
        var states = breakers.Select(b => b.State == CircuitState.Closed
            ? throw new ArgumentException("A closed breaker is not stored; report only open and half-open ones.", nameof(breakers))
            : b.State.ToName()).ToArray();
        return WriteAsync(async (c, tx, ct) =>
        {
            // Two statements: a data-modifying CTE sees the rows it deletes, so a re-reported type would collide with itself.
            await using (var delete = Command(c, tx, "DELETE FROM {s}.circuit_breakers WHERE worker_id = @worker"))
            {
                Add(delete, "worker", NpgsqlDbType.Text, workerId);
                await delete.ExecuteNonQueryAsync(ct);
            }

            if (breakers.Count == 0)
            {
                return true;
            }

            await using var replace = Command(c, tx, """
                INSERT INTO {s}.circuit_breakers (type, worker_id, state, failures, opened_at, reset_at, updated_at)
                SELECT t, @worker, st, f, o, r, @now FROM unnest(@types, @states, @failures, @opened, @resets) AS x(t, st, f, o, r)
                """);
            Add(replace, "worker", NpgsqlDbType.Text, workerId);
            Add(replace, "types", NpgsqlDbType.Array | NpgsqlDbType.Text, breakers.Select(b => b.Type).ToArray());
            Add(replace, "states", NpgsqlDbType.Array | NpgsqlDbType.Text, states);
            Add(replace, "failures", NpgsqlDbType.Array | NpgsqlDbType.Integer, breakers.Select(b => b.ConsecutiveFailures).ToArray());
            Add(replace, "opened", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, breakers.Select(b => b.Since.ToUniversalTime()).ToArray());
            Add(replace, "resets", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, breakers.Select(b => b.ResetAt?.ToUniversalTime()).ToArray());
            await replace.ExecuteNonQueryAsync(ct);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<CircuitBreakerRecord>>(async (c, ct) =>
        {
            // Breakers of dead or stopped workers are left out: they no longer hold anything back.
            await using var select = Command(c, null,
                $"SELECT {CircuitColumns} FROM {{s}}.circuit_breakers c LEFT JOIN {{s}}.workers w ON w.id = c.worker_id " +
                "WHERE c.worker_id = '' OR w.state IN ('active', 'draining') ORDER BY c.type, c.worker_id");
            var list = new List<CircuitBreakerRecord>();
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                list.Add(ReadCircuit(reader));
            }

            return list;
        }, cancellationToken);

    private static CircuitBreakerRecord ReadCircuit(NpgsqlDataReader r) => new(
        r.GetString(0),
        CircuitStates.TryParse(r.GetString(2), out var state) && state != CircuitState.Closed
            ? state
            : throw new StoreCorruptException($"The circuit_breakers table holds an unknown state '{r.GetString(2)}'."),
        r.GetString(1) is { Length: > 0 } worker ? worker : null,
        r.GetFieldValue<DateTimeOffset>(4),
        r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5),
        r.GetInt32(3));
}
