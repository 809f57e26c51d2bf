using System.Collections.Concurrent;
using Bulwark.Client;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Sqlite;
using Bulwark.Storage;
using Bulwark.TestProcesses;
using Bulwark.Workers;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bulwark.EntityFrameworkCore.Tests;

/// <summary>
/// The same order and email job in one EF Core transaction, on a real SQLite file that is both the app's database
/// (<c>UseSqlite</c>) and Bulwark's store: both commit, or neither; the in-process worker (polling only every two
/// minutes) is woken by the commit through <c>UseBulwark()</c>.
/// </summary>
public sealed class SqliteTransactionalEnqueueTests(SqliteTransactionalEnqueueTests.SqliteShop shop) : IClassFixture<SqliteTransactionalEnqueueTests.SqliteShop>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly IHost _host = shop.Host;

    [Fact]
    public async Task An_order_and_its_job_commit_together_and_the_commit_wakes_the_worker()
    {
        var client = _host.Services.GetRequiredService<IJobClient>();
        // The worker has leased once and now waits for its signal (or its two-minute poll): a job it runs now was woken.
        var warmUp = await client.EnqueueAsync(new SqliteOrderEmail(0));
        await Poll.UntilAsync(async () => (await client.GetAsync(warmUp))?.State == JobState.Completed, Deadline, () => "warm-up job not completed");
        var signal = _host.Services.GetRequiredService<JobSignal>();

        long jobId;
        int orderId;
        var started = DateTime.UtcNow;
        Task pulse;
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SqliteShopContext>();
            var jobs = scope.ServiceProvider.GetRequiredService<IJobClient>();
            await using var tx = await db.Database.BeginTransactionAsync();
            var order = new SqliteOrder { Item = "book" };
            db.Orders.Add(order);
            await db.SaveChangesAsync();
            pulse = signal.WaitAsync(TimeSpan.FromMinutes(1), TimeProvider.System, CancellationToken.None);
            jobId = await jobs.EnqueueAsync(db, new SqliteOrderEmail(order.Id));
            orderId = order.Id;

            // Not visible outside the transaction, and nobody woken, until it commits.
            Assert.Null(await jobs.GetAsync(jobId));
            Assert.False(pulse.IsCompleted, "the enqueue woke workers before the commit");
            await tx.CommitAsync();
        }

        await pulse;
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(50), "the commit did not pulse the signal");
        var emailed = await _host.Services.GetRequiredService<SqliteOrderEmails>().SentAsync(orderId).WaitAsync(Deadline);
        await Poll.UntilAsync(async () => (await client.GetAsync(jobId))?.State == JobState.Completed, Deadline, () => "job not completed");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMinutes(1), "the job ran only at the worker's poll");
        var job = (await client.GetAsync(jobId))!;
        Assert.Equal("order.email.sqlite", job.Type);
        Assert.Equal("sqlite-email", job.Queue);
        await using var check = _host.Services.CreateAsyncScope();
        Assert.True(await check.ServiceProvider.GetRequiredService<SqliteShopContext>().Orders.AnyAsync(o => o.Id == emailed));
    }

    [Fact]
    public async Task A_rolled_back_transaction_leaves_neither_the_order_nor_the_job()
    {
        long jobId;
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SqliteShopContext>();
            var jobs = scope.ServiceProvider.GetRequiredService<IJobClient>();
            await using var tx = await db.Database.BeginTransactionAsync();
            db.Orders.Add(new SqliteOrder { Item = "returned" });
            await db.SaveChangesAsync();
            jobId = await jobs.EnqueueAsync(db, "sqlite-parked", "order.email.sqlite", new SqliteOrderEmail(-1), o => o.Key("returned-order"));
            await tx.RollbackAsync();
        }

        await using var check = _host.Services.CreateAsyncScope();
        var client = check.ServiceProvider.GetRequiredService<IJobClient>();
        Assert.Null(await client.GetAsync(jobId));
        Assert.False(await check.ServiceProvider.GetRequiredService<SqliteShopContext>().Orders.AnyAsync(o => o.Item == "returned"));
        // The rolled-back job never held its key: the next enqueue with it makes a new job.
        var again = await client.EnqueueJsonAsync("sqlite-parked", "order.email.sqlite", "{}", o => o.Key("returned-order"));
        Assert.False(again.Deduplicated);
    }

    [Fact]
    public async Task A_live_key_returns_the_existing_job_as_the_store_does()
    {
        var client = _host.Services.GetRequiredService<IJobClient>();
        var existing = await client.EnqueueJsonAsync("sqlite-parked", "order.email.sqlite", "{}", o => o.Key("order-41"));

        long first, second, fresh, again;
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SqliteShopContext>();
            await using var tx = await db.Database.BeginTransactionAsync();
            first = await client.EnqueueAsync(db, "sqlite-parked", "order.email.sqlite", new SqliteOrderEmail(41), o => o.Key("order-41"));
            fresh = await client.EnqueueAsync(db, "sqlite-parked", "order.email.sqlite", new SqliteOrderEmail(42), o => o.Key("order-42"));
            // A key taken earlier in the same transaction is live too.
            again = await client.EnqueueAsync(db, "sqlite-parked", "order.email.sqlite", new SqliteOrderEmail(42), o => o.Key("order-42"));
            second = await client.EnqueueAsync(db, "sqlite-parked", "order.email.sqlite", new SqliteOrderEmail(41), o => o.Key("order-41"));
            await tx.CommitAsync();
        }

        Assert.Equal(existing.Id, first);
        Assert.Equal(existing.Id, second);
        Assert.NotEqual(existing.Id, fresh);
        Assert.Equal(fresh, again);
        var page = await client.ListAsync(new JobListQuery("sqlite-parked", Limit: 1000));
        Assert.Single(page.Items, j => j.Key == "order-41");
        Assert.Single(page.Items, j => j.Key == "order-42");
    }

    [Fact]
    public async Task A_job_may_depend_on_an_existing_job_and_a_missing_parent_stores_nothing_of_the_job()
    {
        var client = _host.Services.GetRequiredService<IJobClient>();
        var parent = await client.EnqueueJsonAsync("sqlite-parked", "order.email.sqlite", "{}");

        long child;
        int orderId;
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SqliteShopContext>();
            await using var tx = await db.Database.BeginTransactionAsync();
            var order = new SqliteOrder { Item = "bundle" };
            db.Orders.Add(order);
            await db.SaveChangesAsync();
            orderId = order.Id;
            child = await client.EnqueueAsync(db, "sqlite-parked", "order.email.sqlite", new SqliteOrderEmail(order.Id), o => o.DependsOn(parent.Id));

            var error = await Assert.ThrowsAsync<JobValidationException>(() =>
                client.EnqueueAsync(db, "sqlite-parked", "order.email.sqlite", new SqliteOrderEmail(order.Id), o => o.DependsOn(parent.Id + 1_000_000)));
            Assert.Equal(JobValidationKind.UnknownReference, error.Kind);

            // The refused enqueue undid only its own rows: the order and the first job still commit.
            await tx.CommitAsync();
        }

        var job = (await client.GetAsync(child))!;
        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal([parent.Id], job.DependsOn);
        Assert.Null(await client.GetAsync(child + 1));
        await using var check = _host.Services.CreateAsyncScope();
        Assert.True(await check.ServiceProvider.GetRequiredService<SqliteShopContext>().Orders.AnyAsync(o => o.Id == orderId));
    }

    [Fact]
    public async Task Queue_policies_fill_what_the_job_did_not_set_and_a_delay_or_a_paused_queue_holds_it()
    {
        var store = _host.Services.GetRequiredService<SqliteJobStore>();
        await store.SetQueuePolicyAsync("sqlite-policy", new QueuePolicy { MaxAttempts = 7, Timeout = TimeSpan.FromSeconds(42) });
        await store.SetQueuePausedAsync("sqlite-paused", paused: true);
        var client = _host.Services.GetRequiredService<IJobClient>();

        long byPolicy, own, delayed, paused;
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SqliteShopContext>();
            await using var tx = await db.Database.BeginTransactionAsync();
            byPolicy = await client.EnqueueAsync(db, "sqlite-policy", "order.email.sqlite", new SqliteOrderEmail(1));
            own = await client.EnqueueAsync(db, "sqlite-policy", "order.email.sqlite", new SqliteOrderEmail(2), o => o.MaxAttempts(2));
            delayed = await client.EnqueueAsync(db, "sqlite-parked", "order.email.sqlite", new SqliteOrderEmail(3), o => o.Delay(TimeSpan.FromHours(1)));
            paused = await client.EnqueueAsync(db, "sqlite-paused", "order.email.sqlite", new SqliteOrderEmail(4));
            await tx.CommitAsync();
        }

        var policy = (await client.GetAsync(byPolicy))!;
        Assert.Equal(7, policy.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(42), policy.Timeout);
        var set = (await client.GetAsync(own))!;
        Assert.Equal(2, set.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(42), set.Timeout);
        Assert.Equal(JobState.Scheduled, (await client.GetAsync(delayed))!.State);
        // As the store's own enqueue: ready, and left there by leasing while its queue is paused.
        Assert.Equal(JobState.Ready, (await client.GetAsync(paused))!.State);
    }

    [Fact]
    public async Task The_commit_rings_workers_of_other_processes_on_the_file()
    {
        // A second store on the same file with its own signal stands for another process: the doorbell rings every
        // listener but the ringing store's own.
        var elsewhere = new JobSignal();
        await using var other = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = shop.Path, Signal = elsewhere });
        var rung = elsewhere.WaitAsync(TimeSpan.FromMinutes(1), TimeProvider.System, CancellationToken.None);
        var started = DateTime.UtcNow;
        await using (var scope = _host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SqliteShopContext>();
            await using var tx = await db.Database.BeginTransactionAsync();
            await scope.ServiceProvider.GetRequiredService<IJobClient>().EnqueueAsync(db, "sqlite-parked", "order.email.sqlite", new SqliteOrderEmail(5));
            await tx.CommitAsync();
        }

        await rung;
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(50), "the other process was not rung at the commit");
    }

    [Fact]
    public async Task A_database_that_is_not_a_bulwark_store_is_refused_and_keeps_the_transaction()
    {
        var path = Path.Combine(shop.Directory, "app-only.db");
        await using var db = new SqliteShopContext(new DbContextOptionsBuilder<SqliteShopContext>().UseSqlite($"Data Source={path}").UseBulwark().Options);
        await db.Database.EnsureCreatedAsync();
        await using var tx = await db.Database.BeginTransactionAsync();
        db.Orders.Add(new SqliteOrder { Item = "kept" });
        await db.SaveChangesAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _host.Services.GetRequiredService<IJobClient>().EnqueueAsync(db, new SqliteOrderEmail(1)));

        Assert.Contains("not a Bulwark job store", error.Message, StringComparison.Ordinal);
        Assert.Contains(shop.Path, error.Message, StringComparison.Ordinal);
        await tx.CommitAsync();
        Assert.True(await db.Orders.AnyAsync(o => o.Item == "kept"));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(99)]
    public async Task A_store_file_at_another_schema_version_is_refused_naming_both_versions(int version)
    {
        var path = Path.Combine(shop.Directory, $"version-{version}.db");
        await (await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = path, CrossProcessWakeUp = false })).DisposeAsync();
        await using (var raw = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await raw.OpenAsync();
            await using var command = raw.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {version}";
            await command.ExecuteNonQueryAsync();
        }

        await using var db = new SqliteShopContext(new DbContextOptionsBuilder<SqliteShopContext>().UseSqlite($"Data Source={path};Pooling=False").Options);
        await using var tx = await db.Database.BeginTransactionAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _host.Services.GetRequiredService<IJobClient>().EnqueueAsync(db, new SqliteOrderEmail(1)));

        Assert.Contains($"schema version {version}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"writes version {shop.SchemaVersion}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_bulwark_store_file_is_refused_because_this_stores_workers_would_never_see_the_job()
    {
        var path = Path.Combine(shop.Directory, "another-store.db");
        await (await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = path, CrossProcessWakeUp = false })).DisposeAsync();
        await using var db = new SqliteShopContext(new DbContextOptionsBuilder<SqliteShopContext>().UseSqlite($"Data Source={path};Pooling=False").Options);
        await using var tx = await db.Database.BeginTransactionAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _host.Services.GetRequiredService<IJobClient>().EnqueueAsync(db, new SqliteOrderEmail(1)));

        Assert.Contains("would never see the job", error.Message, StringComparison.Ordinal);
        Assert.Contains(shop.Path, error.Message, StringComparison.Ordinal);
    }

    internal sealed record SqliteOrderEmail(int OrderId);

    internal sealed class SqliteOrder
    {
        public int Id { get; set; }

        public required string Item { get; set; }
    }

    internal sealed class SqliteShopContext(DbContextOptions<SqliteShopContext> options) : DbContext(options)
    {
        public DbSet<SqliteOrder> Orders => Set<SqliteOrder>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.Entity<SqliteOrder>().ToTable("shop_orders");
    }

    internal sealed class SqliteOrderEmails
    {
        private readonly ConcurrentDictionary<int, TaskCompletionSource<int>> _sent = new();

        public Task<int> SentAsync(int orderId) => Of(orderId).Task;

        public void Send(int orderId) => Of(orderId).TrySetResult(orderId);

        private TaskCompletionSource<int> Of(int orderId) => _sent.GetOrAdd(orderId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    [JobType("order.email.sqlite", Queue = "sqlite-email")]
    internal sealed class SendSqliteOrderEmail(SqliteOrderEmails emails) : IJobHandler<SqliteOrderEmail>
    {
        public Task<object?> HandleAsync(SqliteOrderEmail payload, JobContext context)
        {
            emails.Send(payload.OrderId);
            return Task.FromResult<object?>(null);
        }
    }

    /// <summary>One host, store file and orders table for the class; the worker serves only <c>sqlite-email</c>.</summary>
    public sealed class SqliteShop : IAsyncLifetime
    {
        public string Directory { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "bulwark-efcore-tests", Guid.NewGuid().ToString("N"));

        public string Path => System.IO.Path.Combine(Directory, "shop.db");

        public IHost Host { get; private set; } = null!;

        public int SchemaVersion { get; private set; }

        public async Task InitializeAsync()
        {
            System.IO.Directory.CreateDirectory(Directory);
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder([]);
            builder.Services.AddSingleton<SqliteOrderEmails>();
            builder.Services.AddDbContext<SqliteShopContext>(o => o.UseSqlite($"Data Source={Path}").UseBulwark());
            builder.Services.AddBulwark(b => b
                .UseSqlite(Path)
                .AddHandler<SendSqliteOrderEmail>()
                .AddWorker(w => w.Queues("sqlite-email").Poll(TimeSpan.FromMinutes(2))));
            Host = builder.Build();
            // The store first (it creates and migrates the file), then the app's table beside its tables.
            _ = Host.Services.GetRequiredService<SqliteJobStore>();
            await using (var scope = Host.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<SqliteShopContext>();
                await db.GetService<IRelationalDatabaseCreator>().CreateTablesAsync();
                await db.Database.OpenConnectionAsync();
                await using var command = db.Database.GetDbConnection().CreateCommand();
                command.CommandText = "PRAGMA user_version";
                SchemaVersion = Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
            }

            await Host.StartAsync();
        }

        public async Task DisposeAsync()
        {
            await Host.StopAsync();
            Host.Dispose();
            SqliteConnection.ClearAllPools();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
