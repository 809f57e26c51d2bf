using Bulwark.Client;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Testing;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class HostingTests
{
    [Fact]
    public async Task A_hosted_worker_is_woken_at_once_by_an_in_process_enqueue_and_stops_cleanly()
    {
        var store = new InMemoryJobStore();
        var builder = Host.CreateApplicationBuilder([]);
        builder.Services.AddBulwark(b => b.UseStore(_ => store))
            .AddHandler<Sized>("double", (payload, _) => Task.FromResult<object?>(payload.Ms * 2))
            // A five-minute poll: only the in-process signal can get the job run within the test's deadline.
            .AddWorker(w => w.Queues("default").Concurrency(2).Name("hosted").Poll(TimeSpan.FromMinutes(5)));
        using var host = builder.Build();
        await host.StartAsync();
        var runtime = host.Services.GetRequiredService<WorkerRuntime>();
        Assert.True(runtime.IsReady);
        Assert.Same(runtime.Circuits, host.Services.GetRequiredService<ICircuitBreakers>());

        var id = await host.Services.GetRequiredService<JobClient>().EnqueueAsync("default", "double", new Sized(21));
        await Poll.UntilAsync(async () => (await store.GetJobAsync(id))!.State == JobState.Completed, TimeSpan.FromSeconds(10), () => "not completed");
        Assert.Equal("42", (await store.GetJobAsync(id))!.Result);

        await host.StopAsync();
        Assert.Equal(WorkerState.Stopped, (await store.ListWorkersAsync()).Single(w => w.Registration.Name == "hosted").State);
    }

    [Fact]
    public void A_second_handler_for_the_same_type_is_refused_with_a_clear_message()
    {
        var builder = new ServiceCollection().AddBulwark().AddHandler<Empty>("once", (_, _) => Task.CompletedTask);
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddHandler<Empty>("once", (_, _) => Task.CompletedTask));
        Assert.Contains("'once' is already registered", error.Message);
    }

    [Fact]
    public async Task Unusable_worker_options_fail_at_start_up_listing_every_problem()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddBulwark(b => b.UseStore(_ => new InMemoryJobStore())).AddWorker(w => w.Concurrency(0).Queues("UPPER"));
        await using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<WorkerOptionsException>(() => provider.GetRequiredService<WorkerRuntime>());
        Assert.Equal(2, error.Problems.Count);
        Assert.Contains("Concurrency must be between 1 and 10000 (got 0)", error.Message);
    }

    [Fact]
    public void Add_worker_raises_the_hosts_shutdown_timeout_to_cover_the_drain_and_keeps_a_longer_one()
    {
        var defaults = Host.CreateApplicationBuilder([]);
        defaults.Services.AddBulwark(b => b.UseStore(_ => new InMemoryJobStore())).AddWorker(w => w.ShutdownTimeout(TimeSpan.FromSeconds(60)));
        using (var host = defaults.Build())
        {
            // 60 s drain + 5 s abandon grace + 10 s to release and stop.
            Assert.Equal(TimeSpan.FromSeconds(75), host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HostOptions>>().Value.ShutdownTimeout);
        }

        var longer = Host.CreateApplicationBuilder([]);
        longer.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(5));
        longer.Services.AddBulwark(b => b.UseStore(_ => new InMemoryJobStore())).AddWorker();
        using (var host = longer.Build())
        {
            Assert.Equal(TimeSpan.FromMinutes(5), host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HostOptions>>().Value.ShutdownTimeout);
        }
    }

    [Fact]
    public async Task A_host_with_a_shorter_shutdown_timeout_still_waits_for_a_running_job_to_finish_its_drain()
    {
        var store = new InMemoryJobStore();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder([]);
        // The app asks for 1 s; the drain needs up to 3 s + 1 s grace + margin, so AddWorker raises it.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        builder.Services.AddBulwark(b => b.UseStore(_ => store))
            .AddHandler<Empty>("slow", async (_, _) =>
            {
                started.SetResult();
                // The job's own work, longer than the app's 1 s: it ignores the drain (which only cancels at 3 s).
                await Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None);
            })
            .AddWorker(w => w.Queues("default").Name("drainer").ShutdownTimeout(TimeSpan.FromSeconds(3)).Options.AbandonGracePeriod = TimeSpan.FromSeconds(1));
        using var host = builder.Build();
        await host.StartAsync();
        var id = await host.Services.GetRequiredService<JobClient>().EnqueueAsync("default", "slow", new Empty());
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await host.StopAsync();

        Assert.Equal(JobState.Completed, (await store.GetJobAsync(id))!.State);
    }
}
