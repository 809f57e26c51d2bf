using System.Data.Common;
using Bulwark.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Bulwark.EntityFrameworkCore;

/// <summary>
/// <c>await jobs.EnqueueAsync(db, new EmailPayload(…))</c>: enqueues through the client (validation, trace context,
/// metrics) inside the <see cref="DbContext"/>'s current transaction, so the job exists if and only if that transaction
/// commits. The store must be PostgreSQL (<c>UsePostgres</c>) on the database the context uses, or SQLite
/// (<c>UseSqlite</c>) with the context on the store's file. Workers are woken at the commit: by PostgreSQL's
/// <c>NOTIFY</c>, or on SQLite by the interceptor that <see cref="BulwarkDbContextOptionsExtensions.UseBulwark(DbContextOptionsBuilder)"/>
/// adds (without it, at their next poll).
/// </summary>
public static class BulwarkDbContextExtensions
{
    /// <summary>Enqueues one job for <paramref name="payload"/> (type and queue from its handler's <c>[JobType]</c>) in <paramref name="db"/>'s current transaction.</summary>
    public static Task<long> EnqueueAsync<TPayload>(this IJobClient jobs, DbContext db, TPayload payload, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return jobs.EnqueueAsync(TransactionOf(db), payload, configure, cancellationToken);
    }

    /// <summary>Enqueues one job of <paramref name="type"/> on <paramref name="queue"/> in <paramref name="db"/>'s current transaction.</summary>
    public static Task<long> EnqueueAsync<TPayload>(this IJobClient jobs, DbContext db, string queue, string type, TPayload payload, Action<EnqueueOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return jobs.EnqueueAsync(TransactionOf(db), queue, type, payload, configure, cancellationToken);
    }

    private static DbTransaction TransactionOf(DbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        // SaveChanges' own implicit transaction is committed before it returns, so a job cannot join it: the caller opens one.
        return db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException(
                $"{db.GetType().Name} has no open transaction, so the job could not commit with your changes. Open one around both: "
                + "await using var tx = await db.Database.BeginTransactionAsync(); …; await db.SaveChangesAsync(); await jobs.EnqueueAsync(db, payload); await tx.CommitAsync();");
    }
}
