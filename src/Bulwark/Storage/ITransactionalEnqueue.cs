using System.Data.Common;
using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>
/// A store that writes jobs inside a caller's open database transaction, so that the jobs exist if and only if the
/// caller commits (PostgreSQL: <c>UsePostgres</c> registers it). Applications call it through
/// <c>IJobClient.EnqueueAsync(transaction, …)</c> or, with EF Core, <c>Bulwark.EntityFrameworkCore</c>.
/// </summary>
public interface ITransactionalEnqueue
{
    /// <summary>Inserts validated <paramref name="jobs"/> through <paramref name="transaction"/>'s connection; workers are woken when it commits.</summary>
    Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(DbTransaction transaction, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default);
}
