using System.Data.Common;
using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>
/// A store that writes jobs inside a caller's open database transaction, so that the jobs exist if and only if the
/// caller commits (PostgreSQL: <c>UsePostgres</c>; SQLite: <c>UseSqlite</c>, on the store's own file). Applications call
/// it through <c>IJobClient.EnqueueAsync(transaction, …)</c> or, with EF Core, <c>Bulwark.EntityFrameworkCore</c>.
/// </summary>
public interface ITransactionalEnqueue
{
    /// <summary>Inserts validated <paramref name="jobs"/> through <paramref name="transaction"/>'s connection; workers are woken when it commits.</summary>
    Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(DbTransaction transaction, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tells the store that <paramref name="transaction"/> has committed, so it wakes workers for the jobs enqueued in it. A
    /// store whose wake-up travels inside the transaction (PostgreSQL's <c>NOTIFY</c>, delivered at commit) needs no call:
    /// this default does nothing. SQLite has no such message, so its store wakes this process's workers and rings other
    /// processes here. <c>Bulwark.EntityFrameworkCore</c>'s interceptor (<c>UseBulwark()</c>) calls it after each commit;
    /// without the call, workers find the jobs at their next poll. Safe for any transaction, and more than once.
    /// </summary>
    void Committed(DbTransaction transaction)
    {
    }
}
