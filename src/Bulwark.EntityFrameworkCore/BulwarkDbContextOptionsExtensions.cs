using Microsoft.EntityFrameworkCore;

namespace Bulwark.EntityFrameworkCore;

/// <summary><c>services.AddDbContext&lt;ShopContext&gt;(o =&gt; o.UseSqlite(…).UseBulwark())</c>: workers are woken when your transaction commits.</summary>
public static class BulwarkDbContextOptionsExtensions
{
    /// <summary>
    /// Adds Bulwark's commit interceptor: after each transaction of the context commits, the store wakes the workers for
    /// the jobs enqueued in it (<c>ITransactionalEnqueue.Committed</c>). Needed with the SQLite store, which has no
    /// message that travels in the transaction; without it, workers find the jobs at their next poll. Harmless with
    /// PostgreSQL, whose <c>NOTIFY</c> is delivered at the commit anyway. The store is resolved from the application's
    /// services (those <c>AddDbContext</c> hands to the context).
    /// </summary>
    public static DbContextOptionsBuilder UseBulwark(this DbContextOptionsBuilder optionsBuilder)
    {
        ArgumentNullException.ThrowIfNull(optionsBuilder);
        return optionsBuilder.AddInterceptors(CommitWakeInterceptor.Instance);
    }

    /// <inheritdoc cref="UseBulwark(DbContextOptionsBuilder)"/>
    public static DbContextOptionsBuilder<TContext> UseBulwark<TContext>(this DbContextOptionsBuilder<TContext> optionsBuilder)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(optionsBuilder);
        return optionsBuilder.AddInterceptors(CommitWakeInterceptor.Instance);
    }
}
