using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite;

public sealed partial class SqliteJobStore
{
    private const string CircuitColumns = "c.type, c.worker_id, c.state, c.failures, c.opened_at, c.reset_at";

    /// <inheritdoc />
    public Task<CircuitBreakerRecord> OpenCircuitAsync(string type, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateType(type);
        return WriteAsync(c =>
        {
            // Opening an open breaker keeps its "since": the outage started then.
            Execute(c,
                "INSERT INTO circuit_breakers (type, worker_id, state, failures, opened_at, reset_at, updated_at) VALUES (@type, '', 'open', 0, @now, NULL, @now) ON CONFLICT (type, worker_id) DO NOTHING",
                ("@type", type), ("@now", c.Now));
            return Query(c, $"SELECT {CircuitColumns} FROM circuit_breakers c WHERE c.type = @type AND c.worker_id = ''", ReadCircuit, ("@type", type))[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> CloseCircuitAsync(string type, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateType(type);
        return WriteAsync(c =>
        {
            // The type's ready jobs are leasable again.
            c.Wake();
            return Execute(c, "DELETE FROM circuit_breakers WHERE type = @type AND worker_id = ''", ("@type", type)) == 1;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task ReportCircuitsAsync(string workerId, IReadOnlyList<CircuitBreakerRecord> breakers, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentNullException.ThrowIfNull(breakers);
        return WriteAsync(c =>
        {
            Execute(c, "DELETE FROM circuit_breakers WHERE worker_id = @worker", ("@worker", workerId));
            foreach (var b in breakers)
            {
                Execute(c,
                    "INSERT INTO circuit_breakers (type, worker_id, state, failures, opened_at, reset_at, updated_at) VALUES (@type, @worker, @state, @failures, @opened, @reset, @now)",
                    ("@type", b.Type), ("@worker", workerId), ("@state", CircuitStateName(b.State)), ("@failures", b.ConsecutiveFailures),
                    ("@opened", JobRow.ToMs(b.Since)), ("@reset", b.ResetAt is { } r ? JobRow.ToMs(r) : (long?)null), ("@now", c.Now));
            }

            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CircuitBreakerRecord>> ListCircuitsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<CircuitBreakerRecord>>(connection =>
        {
            // Breakers of dead or stopped workers are left out: they no longer hold anything back.
            using var command = Command(connection,
                $"SELECT {CircuitColumns} FROM circuit_breakers c LEFT JOIN workers w ON w.id = c.worker_id " +
                "WHERE c.worker_id = '' OR w.state IN ('active', 'draining') ORDER BY c.type, c.worker_id");
            using var reader = command.ExecuteReader();
            var list = new List<CircuitBreakerRecord>();
            while (reader.Read())
            {
                list.Add(ReadCircuit(reader));
            }

            return list;
        }, cancellationToken);

    private static string CircuitStateName(CircuitState state) => state == CircuitState.Closed
        ? throw new ArgumentException("A closed breaker is not stored; report only open and half-open ones.", nameof(state))
        : state.ToName();

    private static CircuitBreakerRecord ReadCircuit(SqliteDataReader r) => new(
        r.GetString(0),
        CircuitStates.TryParse(r.GetString(2), out var state) && state != CircuitState.Closed
            ? state
            : throw new StoreCorruptException($"The circuit_breakers table holds an unknown state '{r.GetString(2)}'."),
        r.GetString(1) is { Length: > 0 } worker ? worker : null,
        JobRow.ToTime(r.GetInt64(4)),
        r.IsDBNull(5) ? null : JobRow.ToTime(r.GetInt64(5)),
        r.GetInt32(3));
}
