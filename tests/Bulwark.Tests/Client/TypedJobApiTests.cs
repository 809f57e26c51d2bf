using Bulwark.Client;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Testing;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bulwark.Tests.Client;

/// <summary>The typed API: handlers declare their job type and queue, and <c>EnqueueAsync(payload)</c> finds both.</summary>
public sealed class TypedJobApiTests
{
    [Fact]
    public async Task A_handler_registered_by_type_alone_gets_the_jobs_its_payload_enqueues_on_its_declared_queue()
    {
        var services = new ServiceCollection();
        services.AddBulwark(b => b.UseInMemory().AddHandler<SendWelcome>());
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IJobClient>();

        var id = await client.EnqueueAsync(new Welcome("ada@example.com"));

        var job = await client.GetAsync(id);
        Assert.Equal("welcome.send", job!.Type);
        Assert.Equal("email", job.Queue);
        Assert.Same(provider.GetRequiredService<JobClient>(), client);
    }

    [Fact]
    public async Task A_payload_declaring_its_type_can_be_enqueued_by_a_process_without_its_handler()
    {
        var services = new ServiceCollection();
        services.AddBulwark(b => b.UseInMemory());
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IJobClient>();

        var job = await client.GetAsync(await client.EnqueueAsync(new Invoice(42)));

        Assert.Equal("invoice.render", job!.Type);
        Assert.Equal("default", job.Queue);
    }

    [Fact]
    public async Task A_payload_with_no_known_job_type_is_refused_saying_what_to_add()
    {
        var services = new ServiceCollection();
        services.AddBulwark(b => b.UseInMemory());
        await using var provider = services.BuildServiceProvider();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => provider.GetRequiredService<IJobClient>().EnqueueAsync(new Untyped(1)));

        Assert.Contains("No job type is known for the payload Untyped", error.Message, StringComparison.Ordinal);
        Assert.Contains("[JobType(", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_shared_by_two_job_types_is_refused_naming_both()
    {
        var services = new ServiceCollection();
        services.AddBulwark(b => b.UseInMemory()
            .AddHandler<Untyped>("a.one", (_, _) => Task.CompletedTask)
            .AddHandler<Untyped>("a.two", (_, _) => Task.CompletedTask));
        await using var provider = services.BuildServiceProvider();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => provider.GetRequiredService<IJobClient>().EnqueueAsync(new Untyped(1)));

        Assert.Contains("'a.one', 'a.two'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_handler_without_a_declared_type_is_refused_at_registration()
    {
        var builder = new ServiceCollection().AddBulwark();

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddHandler<UndeclaredHandler>());

        Assert.Contains("UndeclaredHandler declares no job type", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_declared_queue_that_is_not_a_valid_queue_name_is_refused_at_registration()
    {
        var builder = new ServiceCollection().AddBulwark();

        Assert.Throws<JobValidationException>(() => builder.AddHandler<BadQueueHandler>());
    }

    [Fact]
    public async Task A_delegate_handler_gets_a_service_from_each_jobs_own_scope()
    {
        var greeters = new List<Greeter>();
        var twoRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder([]);
        builder.Services.AddScoped<Greeter>();
        builder.Services.AddBulwark(b => b.UseInMemory()
            .AddHandler<Welcome, Greeter>("welcome.greet", (payload, greeter, _) =>
            {
                lock (greeters)
                {
                    greeter.Greeted = payload.Email;
                    greeters.Add(greeter);
                    if (greeters.Count == 2)
                    {
                        twoRan.SetResult();
                    }
                }

                return Task.CompletedTask;
            })
            .AddWorker(w => w.Queues("default").Concurrency(1)));
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IJobClient>();

        await client.EnqueueAsync("default", "welcome.greet", new Welcome("ada@example.com"));
        await client.EnqueueAsync("default", "welcome.greet", new Welcome("grace@example.com"));
        await twoRan.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await host.StopAsync();

        Assert.Equal(["ada@example.com", "grace@example.com"], greeters.Select(g => g.Greeted).Order());
        Assert.NotSame(greeters[0], greeters[1]);
    }

    [JobType("welcome.send", Queue = "email")]
    private sealed class SendWelcome : IJobHandler<Welcome>
    {
        public Task<object?> HandleAsync(Welcome payload, JobContext context) => Task.FromResult<object?>(null);
    }

    private sealed class UndeclaredHandler : IJobHandler<Untyped>
    {
        public Task<object?> HandleAsync(Untyped payload, JobContext context) => Task.FromResult<object?>(null);
    }

    [JobType("bad.queue", Queue = "Not A Queue")]
    private sealed class BadQueueHandler : IJobHandler<Untyped>
    {
        public Task<object?> HandleAsync(Untyped payload, JobContext context) => Task.FromResult<object?>(null);
    }

    private sealed class Greeter
    {
        public string? Greeted { get; set; }
    }

    private sealed record Welcome(string Email);

    private sealed record Untyped(int N);

    [JobType("invoice.render")]
    private sealed record Invoice(int Number);
}
