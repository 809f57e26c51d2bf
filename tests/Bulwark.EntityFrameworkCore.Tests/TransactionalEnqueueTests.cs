using Bulwark.Client;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Postgres;
using Bulwark.Postgres.Tests;
using Bulwark.TestProcesses;
using Bulwark.Testing;
using Bulwark.Workers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bulwark.EntityFrameworkCore.Tests;

/// <summary>
/// An order and its email job in one EF Core transaction on the real test PostgreSQL: both commit, or neither; the
/// in-process worker (polling only every five minutes) is woken by the commit.
/// </summary>
public sealed class TransactionalEnqueueTests(TransactionalEnqueueTests.Shop shop) : IClassFixture<TransactionalEnqueueTests.Shop>
{
    private readonly IHost _host = shop.Host;
    private readonly string _schema = shop.Schema;

    [Fact]
    public async Task An_order_and_its_job_commit_together_and_the_commit_wakes_the_worker()
    {
        long jobId;
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ShopContext>();
            var jobs = scope.ServiceProvider.GetRequiredService<IJobClient>();
            await using var tx = await db.Database.BeginTransactionAsync();
            var order = new Order { Item = "book" };
            db.Orders.Add(order);
            await db.SaveChangesAsync();
            jobId = await jobs.EnqueueAsync(db, new OrderEmail(order.Id));

            // Not visible outside the transaction until it commits.
            Assert.Null(await jobs.GetAsync(jobId));
            await tx.CommitAsync();
        }

        var emailed = await _host.Services.GetRequiredService<OrderEmails>().Sent.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var client = _host.Services.GetRequiredService<IJobClient>();
        await Poll.UntilAsync(async () => (await client.GetAsync(jobId))?.State == JobState.Completed, TimeSpan.FromSeconds(30), () => "job not completed");
        var job = (await client.GetAsync(jobId))!;
        Assert.Equal("order.email", job.Type);
        Assert.Equal("email", job.Queue);
        await using var check = _host.Services.CreateAsyncScope();
        Assert.Equal(emailed, (await check.ServiceProvider.GetRequiredService<ShopContext>().Orders.SingleAsync(o => o.Id == emailed)).Id);
    }

    [Fact]
    public async Task A_rolled_back_transaction_leaves_neither_the_order_nor_the_job()
    {
        long jobId;
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ShopContext>();
            var jobs = scope.ServiceProvider.GetRequiredService<IJobClient>();
            await using var tx = await db.Database.BeginTransactionAsync();
            db.Orders.Add(new Order { Item = "returned" });
            await db.SaveChangesAsync();
            jobId = await jobs.EnqueueAsync(db, "email", "order.email", new OrderEmail(-1));
            await tx.RollbackAsync();
        }

        await using var check = _host.Services.CreateAsyncScope();
        Assert.Null(await check.ServiceProvider.GetRequiredService<IJobClient>().GetAsync(jobId));
        Assert.False(await check.ServiceProvider.GetRequiredService<ShopContext>().Orders.AnyAsync(o => o.Item == "returned"));
    }

    [Fact]
    public async Task Enqueue_without_an_open_transaction_is_refused_saying_how_to_open_one()
    {
        await using var scope = _host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ShopContext>();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => scope.ServiceProvider.GetRequiredService<IJobClient>().EnqueueAsync(db, new OrderEmail(1)));

        Assert.Contains("BeginTransactionAsync", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_that_cannot_join_a_transaction_is_refused_naming_postgresql()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new ShopSchema(_schema));
        services.AddDbContext<ShopContext>(o => o.UseNpgsql(PostgresTestDatabase.ConnectionString));
        services.AddBulwark(b => b.UseInMemory());
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ShopContext>();
        await using var tx = await db.Database.BeginTransactionAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => scope.ServiceProvider.GetRequiredService<IJobClient>().EnqueueAsync(db, "email", "order.email", new OrderEmail(1)));

        Assert.Contains("PostgreSQL", error.Message, StringComparison.Ordinal);
    }

    internal sealed record OrderEmail(int OrderId);

    internal sealed class Order
    {
        public int Id { get; set; }

        public required string Item { get; set; }
    }

    internal sealed record ShopSchema(string Name);

    internal sealed class ShopContext(DbContextOptions<ShopContext> options, ShopSchema schema) : DbContext(options)
    {
        public DbSet<Order> Orders => Set<Order>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.HasDefaultSchema(schema.Name);
    }

    internal sealed class OrderEmails
    {
        public TaskCompletionSource<int> Sent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [JobType("order.email", Queue = "email")]
    internal sealed class SendOrderEmail(OrderEmails emails) : IJobHandler<OrderEmail>
    {
        public Task<object?> HandleAsync(OrderEmail payload, JobContext context)
        {
            emails.Sent.TrySetResult(payload.OrderId);
            return Task.FromResult<object?>(null);
        }
    }
    /// <summary>One host, schema and orders table for the class: EF Core builds a context type's model (and its schema) once per process.</summary>
    public sealed class Shop : IAsyncLifetime
    {
        public string Schema { get; } = PostgresTestDatabase.NewSchema("efcore");

        public IHost Host { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder([]);
            builder.Services.AddSingleton<OrderEmails>();
            builder.Services.AddDbContext<ShopContext>(o => o.UseNpgsql(PostgresTestDatabase.ConnectionString));
            builder.Services.AddSingleton(new ShopSchema(Schema));
            builder.Services.AddBulwark(b => b
                .UsePostgres(PostgresTestDatabase.ConnectionString, o => o with { Schema = Schema })
                .AddHandler<SendOrderEmail>()
                .AddWorker(w => w.Queues("email").Poll(TimeSpan.FromMinutes(5))));
            Host = builder.Build();
            await using (var scope = Host.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<ShopContext>();
                // CreateTables, not EnsureCreated: the database already has other tests' tables.
                await db.GetService<IRelationalDatabaseCreator>().CreateTablesAsync();
            }

            await Host.StartAsync();
        }

        public async Task DisposeAsync()
        {
            await Host.StopAsync();
            Host.Dispose();
            await PostgresTestDatabase.DropSchemaAsync(Schema);
        }
    }
}
