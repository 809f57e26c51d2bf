using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Postgres;
using Npgsql;

namespace Bulwark.Sample.Web;

/// <summary>
/// Orders on PostgreSQL: the order row and its <c>email.send</c> job are written in one transaction of the app's own
/// connection, so either both exist or neither does (no job for a rolled-back order, no order without its email).
/// </summary>
internal sealed class PostgresOrders(NpgsqlDataSource dataSource, PostgresJobStore jobs, SampleStore store)
{
    private string Table => $"{store.Schema}.sample_orders";

    public async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"CREATE SCHEMA IF NOT EXISTS {store.Schema}; CREATE TABLE IF NOT EXISTS {Table} (id bigserial PRIMARY KEY, email text NOT NULL, item text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<(long OrderId, long JobId)> PlaceAsync(string email, string item, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        long orderId;
        await using (var insert = new NpgsqlCommand($"INSERT INTO {Table} (email, item) VALUES (@email, @item) RETURNING id", connection, transaction))
        {
            insert.Parameters.AddWithValue("email", email);
            insert.Parameters.AddWithValue("item", item);
            orderId = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
        }

        var payload = JsonSerializer.Serialize(new EmailMessage(email, $"Order {orderId}: {item}", orderId), JsonSerializerOptions.Web);
        var results = await jobs.EnqueueAsync(transaction, [new NewJob { Queue = "email", Type = "email.send", Payload = payload }], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (orderId, results[0].Id);
    }
}
