using Bulwark.Hosting;
using Bulwark.Maintenance;
using Bulwark.Server;
using Bulwark.Storage;
using Bulwark.Testing;
using Bulwark.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bulwark.Packaging.Tests;

public sealed class ConfigurationBindingTests
{
    [Fact]
    public void Worker_and_maintenance_options_are_read_from_their_configuration_sections()
    {
        var configuration = Configuration(new()
        {
            ["Bulwark:Worker:Queues:0"] = "email",
            ["Bulwark:Worker:Queues:1"] = "default",
            ["Bulwark:Worker:QueueWeights:email"] = "3",
            ["Bulwark:Worker:Concurrency"] = "7",
            ["Bulwark:Worker:ShutdownTimeout"] = "12s",
            ["Bulwark:Worker:LeaseDuration"] = "00:00:20",
            ["Bulwark:Worker:MemoryLimitBytes"] = "1048576",
            ["Bulwark:Worker:RetrySystemErrors"] = "false",
            ["Bulwark:Maintenance:Interval"] = "500ms",
            ["Bulwark:Maintenance:WorkerRetention"] = "3h",
            ["Bulwark:Maintenance:Retention:Completed"] = "2h",
            ["Bulwark:Maintenance:Retention:BatchSize"] = "100",
            ["Bulwark:Client:MaxPayloadBytes"] = "2048",
        });
        var services = new ServiceCollection().AddLogging();
        services.AddBulwark(configuration, b => b.UseInMemory().AddWorker(configuration, w => w.Name("w1")));
        using var provider = services.BuildServiceProvider();

        var worker = provider.GetRequiredService<WorkerOptions>();
        Assert.Equal(["email", "default"], worker.Queues);
        Assert.Equal(3, worker.QueueWeights["email"]);
        Assert.Equal(7, worker.Concurrency);
        Assert.Equal(TimeSpan.FromSeconds(12), worker.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(20), worker.LeaseDuration);
        Assert.Equal(1048576, worker.MemoryLimitBytes);
        Assert.False(worker.RetrySystemErrors);
        Assert.Equal("w1", worker.Name); // code runs after configuration
        Assert.Equal(7, provider.GetRequiredService<IOptions<WorkerOptions>>().Value.Concurrency);

        var maintenance = provider.GetRequiredService<MaintenanceOptions>();
        Assert.Equal(TimeSpan.FromMilliseconds(500), maintenance.Interval);
        Assert.Equal(TimeSpan.FromHours(3), maintenance.WorkerRetention);
        Assert.Equal(TimeSpan.FromHours(2), maintenance.Retention.Completed);
        Assert.Equal(100, maintenance.Retention.BatchSize);
        Assert.Equal(TimeSpan.FromDays(7), maintenance.Retention.Failed);
        Assert.Equal(2048, provider.GetRequiredService<IOptions<Client.JobClientOptions>>().Value.MaxPayloadBytes);
    }

    [Fact]
    public async Task Bad_worker_configuration_stops_the_start_naming_each_key_and_nothing_runs()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bulwark:Worker:Concurrency"] = "lots",
            ["Bulwark:Worker:Concurency"] = "4",
            ["Bulwark:Worker:HeartbeatInterval"] = "30s",
        });
        builder.Services.AddBulwark(builder.Configuration, b => b.UseInMemory().AddWorker(builder.Configuration));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(error.Failures, f => f.Contains("Bulwark:Worker:Concurrency is 'lots'; give a whole number", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Bulwark:Worker:Concurency is not a known option", StringComparison.Ordinal) && f.Contains("Concurrency", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("heartbeat interval (30s) must be positive and shorter than the lease", StringComparison.Ordinal));
        Assert.Empty(await host.Services.GetRequiredService<IJobQuery>().ListWorkersAsync());
    }

    [Fact]
    public async Task Queue_defaults_come_from_configuration_below_the_stored_policy_and_a_jobs_own_setting_wins()
    {
        var configuration = Configuration(new()
        {
            ["Bulwark:Queues:email:MaxAttempts"] = "4",
            ["Bulwark:Queues:email:Timeout"] = "1m",
            ["Bulwark:Queues:email:Backoff"] = "fixed(2s)",
            ["Bulwark:Queues:email:Retention"] = "3d",
        });
        var services = new ServiceCollection().AddLogging();
        services.AddBulwark(configuration, b => b.UseInMemory().AddMaintenance(configuration));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<Client.JobClient>();
        var store = provider.GetRequiredService<IJobStore>();
        async Task<(int, TimeSpan, string)> EnqueuedAsync(Action<Client.EnqueueOptions>? configure = null)
        {
            var job = (await client.GetAsync((await client.EnqueueJsonAsync("email", "t", "{}", configure)).Id))!;
            return (job.MaxAttempts, job.Timeout, job.Backoff.ToString());
        }

        // Configuration alone.
        Assert.Equal((4, TimeSpan.FromMinutes(1), "fixed(2s)"), await EnqueuedAsync());
        Assert.Equal(Jobs.JobDefaults.MaxAttempts, (await client.GetAsync((await client.EnqueueJsonAsync("sms", "t", "{}")).Id))!.MaxAttempts);
        var retention = provider.GetRequiredService<MaintenanceOptions>().Retention.Queues["email"];
        Assert.Equal([TimeSpan.FromDays(3)], new[] { retention.Completed, retention.Failed, retention.DeadLetter, retention.Cancelled }.Distinct());

        // The policy stored through the API or CLI outranks configuration, field by field.
        await store.SetQueuePolicyAsync("email", new Jobs.QueuePolicy { MaxAttempts = 2 });
        Assert.Equal((2, TimeSpan.FromMinutes(1), "fixed(2s)"), await EnqueuedAsync());

        // The job's own setting outranks both.
        Assert.Equal((9, TimeSpan.FromMinutes(1), "fixed(2s)"), await EnqueuedAsync(o => o.MaxAttempts(9)));
    }

    [Fact]
    public async Task Bad_queue_configuration_stops_the_start_naming_each_key()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bulwark:Queues:email:MaxAttempts"] = "many",
            ["Bulwark:Queues:email:MaxAttemps"] = "2",
            ["Bulwark:Queues:email:Timeout"] = "soon",
            ["Bulwark:Queues:sms:MaxAttempts"] = "0",
            ["Bulwark:Queues:Bad Queue:Timeout"] = "1m",
        });
        builder.Services.AddBulwark(builder.Configuration, b => b.UseInMemory());
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(error.Failures, f => f.Contains("Bulwark:Queues:email:MaxAttempts is 'many'; give a whole number", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Bulwark:Queues:email:MaxAttemps is not a known option", StringComparison.Ordinal) && f.Contains("MaxAttempts", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Bulwark:Queues:email:Timeout is 'soon'; write a duration like", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Bulwark:Queues:sms: max_attempts must be between 1 and 1000 (got 0)", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Bulwark:Queues:Bad Queue: 'Bad Queue' is not a valid queue name", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bad_maintenance_retention_stops_the_start_naming_the_key()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Bulwark:Maintenance:Retention:Completed"] = "a while" });
        builder.Services.AddBulwark(builder.Configuration, b => b.UseInMemory().AddMaintenance(builder.Configuration));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(error.Failures, f => f.Contains("Bulwark:Maintenance:Retention:Completed is 'a while'; write a duration like", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_worker_retention_shorter_than_the_dead_worker_timeout_stops_the_start_saying_what_to_change()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Bulwark:Maintenance:WorkerRetention"] = "5s" });
        builder.Services.AddBulwark(builder.Configuration, b => b.UseInMemory().AddMaintenance(builder.Configuration));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(error.Failures, f => f.Contains("WorkerRetention must be at least WorkerDeadAfter (10s; got 5s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_health_check_is_healthy_with_a_store_and_unhealthy_when_the_storage_circuit_opens()
    {
        var configuration = Configuration(new() { ["Bulwark:StorageCircuit:FailureThreshold"] = "1" });
        var services = new ServiceCollection().AddLogging();
        services.AddBulwark(configuration, b => b.UseInMemory().UseStorageCircuit(configuration));
        services.AddHealthChecks().AddBulwark();
        await using var provider = services.BuildServiceProvider();
        var health = provider.GetRequiredService<HealthCheckService>();

        var before = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, before.Status);
        Assert.Equal("answers", before.Entries["bulwark"].Data["store"]);

        provider.GetRequiredService<StorageCircuit>().RecordFailure("enqueue", new IOException("No space left on device"));
        var after = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, after.Status);
        Assert.Contains("storage circuit is open", after.Entries["bulwark"].Description, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
