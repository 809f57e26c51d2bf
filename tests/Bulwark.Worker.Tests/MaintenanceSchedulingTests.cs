using Bulwark.Hosting;
using Bulwark.Maintenance;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Bulwark.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Bulwark.Worker.Tests;

/// <summary>Maintenance runs the recurring scheduler, so that definitions stored through the API or the CLI fire; once per process.</summary>
public sealed class MaintenanceSchedulingTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_maintenance_pass_enqueues_a_due_tick_of_a_definition_stored_in_the_store()
    {
        var store = new InMemoryJobStore(_time);
        await using var services = Build(store, b => b.AddMaintenance());
        await new RecurringScheduler(store, _time).DefineAsync(new RecurringJob { Name = "every-minute", Cron = "0 * * * * *", Queue = "ticks", Type = "demo.noop" });
        var maintenance = services.GetRequiredService<MaintenanceService>();

        Assert.Equal(0, (await maintenance.RunOnceAsync()).RecurringEnqueued);
        _time.Advance(TimeSpan.FromSeconds(60));
        var pass = await maintenance.RunOnceAsync();

        Assert.Equal((1, 0), (pass.RecurringEnqueued, pass.Errors));
        var tick = new DateTimeOffset(2026, 3, 1, 12, 1, 0, TimeSpan.Zero);
        Assert.NotNull(await store.FindByKeyAsync($"cron:every-minute:{tick.ToUnixTimeMilliseconds()}"));
        Assert.Equal(0, (await maintenance.RunOnceAsync()).RecurringEnqueued);
    }

    [Fact]
    public async Task With_AddRecurring_its_own_loop_schedules_and_maintenance_does_not_run_a_second_scheduler()
    {
        var store = new InMemoryJobStore(_time);
        await using var services = Build(store, b => b.AddMaintenance().AddRecurring("every-minute", "0 * * * * *", "ticks", "demo.noop"));
        var scheduler = services.GetRequiredService<RecurringScheduler>();
        await scheduler.RunOnceAsync();
        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.Equal(0, (await services.GetRequiredService<MaintenanceService>().RunOnceAsync()).RecurringEnqueued);
        Assert.Equal(1, await scheduler.RunOnceAsync());
    }

    private ServiceProvider Build(InMemoryJobStore store, Action<BulwarkBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddLogging();
        services.AddBulwark(b => configure(b.UseStore(_ => store).UseStorageCircuit()));
        return services.BuildServiceProvider();
    }
}
