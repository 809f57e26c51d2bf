using Microsoft.EntityFrameworkCore;

namespace Bulwark.Sample.Web;

/// <summary>The sample's orders, through EF Core, beside Bulwark's jobs: in its PostgreSQL schema, or in its SQLite file.</summary>
internal sealed class OrdersContext(DbContextOptions<OrdersContext> options, SampleStore store) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var order = modelBuilder.Entity<Order>().ToTable("sample_orders", store.IsPostgres ? store.Schema : null);
        order.Property(o => o.Id).HasColumnName("id");
        order.Property(o => o.Email).HasColumnName("email");
        order.Property(o => o.Item).HasColumnName("item");
        order.Property(o => o.CreatedAt).HasColumnName("created_at");
    }
}

/// <summary>One order row.</summary>
internal sealed class Order
{
    public long Id { get; set; }

    public required string Email { get; set; }

    public required string Item { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
