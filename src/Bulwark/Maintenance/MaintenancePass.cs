using Bulwark.Storage;

namespace Bulwark.Maintenance;

/// <summary>What one maintenance pass did.</summary>
/// <param name="Promoted">Scheduled jobs made ready.</param>
/// <param name="Reclaim">Jobs reclaimed from expired leases and dead workers.</param>
/// <param name="Expired">Jobs past their lifetime moved to dead letter.</param>
/// <param name="Purged">Finished jobs deleted by retention (0 when no purge was due).</param>
/// <param name="Errors">Steps that failed (each counted as a persistence error and logged).</param>
public sealed record MaintenancePass(int Promoted, ReclaimResult Reclaim, int Expired, int Purged, int Errors)
{
    /// <summary>Jobs enqueued for due recurring ticks by this pass (0 when maintenance does not run the scheduler).</summary>
    public int RecurringEnqueued { get; init; }

    /// <summary>Registrations of stopped and dead workers deleted by retention (0 when no purge was due).</summary>
    public int PurgedWorkers { get; init; }
}
