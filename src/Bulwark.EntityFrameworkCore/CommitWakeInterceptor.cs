using System.Data.Common;
using Bulwark.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.EntityFrameworkCore;

/// <summary>
/// After a context's transaction commits, tells the store (<see cref="ITransactionalEnqueue.Committed"/>), which wakes
/// workers for the jobs enqueued in it. Stateless: the store remembers which transactions enqueued what.
/// </summary>
internal sealed class CommitWakeInterceptor : DbTransactionInterceptor
{
    internal static readonly CommitWakeInterceptor Instance = new();

    private CommitWakeInterceptor()
    {
    }

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        Wake(transaction, eventData);
        base.TransactionCommitted(transaction, eventData);
    }

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Wake(transaction, eventData);
        return base.TransactionCommittedAsync(transaction, eventData, cancellationToken);
    }

    private static void Wake(DbTransaction transaction, TransactionEndEventData eventData)
    {
        // The application's services, as AddDbContext handed them to the context (null for a context built by hand).
        var services = eventData.Context?.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.ApplicationServiceProvider;
        services?.GetService<ITransactionalEnqueue>()?.Committed(transaction);
    }
}
