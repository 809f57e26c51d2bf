using Bulwark.Client;
using Bulwark.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Bulwark.Sample.Web;

/// <summary>
/// Orders on PostgreSQL or SQLite: the order row (EF Core) and its <c>email.send</c> job are written in one transaction of
/// the <see cref="OrdersContext"/>, so either both exist or neither does (no job for a rolled-back order, no order without
/// its email). The job still goes through the client: validated, traced and counted. Nothing here names the store.
/// </summary>
internal sealed class OrderPlacement(OrdersContext db, IJobClient jobs)
{
    private const string SqliteTable =
        "CREATE TABLE IF NOT EXISTS sample_orders (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL, item TEXT NOT NULL, created_at TEXT NOT NULL)";

    /// <summary>Creates the orders table beside Bulwark's: in the store's schema on PostgreSQL, in the store's file on SQLite.</summary>
    public static async Task EnsureTableAsync(IServiceProvider services, SampleStore store, CancellationToken cancellationToken)
    {
        if (store.IsPostgres)
        {
            await using var command = services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
                $"CREATE SCHEMA IF NOT EXISTS {store.Schema}; CREATE TABLE IF NOT EXISTS {store.Schema}.sample_orders (id bigserial PRIMARY KEY, email text NOT NULL, item text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
            await command.ExecuteNonQueryAsync(cancellationToken);
            return;
        }

        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<OrdersContext>().Database.ExecuteSqlRawAsync(SqliteTable, cancellationToken);
    }

    public async Task<(long OrderId, long JobId)> PlaceAsync(string email, string item, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var order = new Order { Email = email, Item = item };
        db.Orders.Add(order);
        await db.SaveChangesAsync(cancellationToken);
        var jobId = await jobs.EnqueueAsync(db, "email", "email.send", new EmailMessage(email, $"Order {order.Id}: {item}", order.Id), cancellationToken: cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (order.Id, jobId);
    }
}
