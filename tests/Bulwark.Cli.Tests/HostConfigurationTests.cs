using Bulwark.Sqlite;
using Bulwark.Storage;

namespace Bulwark.Cli.Tests;

/// <summary>
/// <c>bulwark worker</c> and <c>bulwark serve</c> read the same <c>Bulwark:*</c> configuration as the library:
/// appsettings.json, then <c>Bulwark__…</c> environment variables, then the flags given, flags winning.
/// </summary>
public sealed class HostConfigurationTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bulwark-hostconfig-").FullName;
    private readonly List<BulwarkProcess> _processes = [];

    private string StorePath => Path.Combine(_dir, "jobs.db");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Environment_variables_set_a_workers_concurrency_and_lease_and_the_registry_shows_them()
    {
        var worker = Track(BulwarkProcess.Start(new Dictionary<string, string>
        {
            ["Bulwark__Worker__Concurrency"] = "3",
            ["Bulwark__Worker__LeaseDuration"] = "4s",
            ["Bulwark__Worker__HeartbeatInterval"] = "1s",
        }, _dir, "worker", "--store", StorePath, "--name", "from-env"));

        var registered = await RegisteredAsync("from-env", worker);
        Assert.Equal(3, registered.Registration.Concurrency);
        Assert.Contains("concurrency 3, lease 4s", worker.Output);
    }

    [Fact]
    public async Task Appsettings_then_environment_then_flags_the_flag_winning()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "appsettings.json"), """
            { "Bulwark": { "Worker": { "Concurrency": 7, "Queues": [ "from-file" ] } } }
            """);
        var fileOnly = Track(BulwarkProcess.Start(new Dictionary<string, string>(), _dir, "worker", "--store", StorePath, "--name", "file-only"));
        var envOverFile = Track(BulwarkProcess.Start(new Dictionary<string, string> { ["Bulwark__Worker__Concurrency"] = "3" }, _dir, "worker", "--store", StorePath, "--name", "env-over-file"));
        var flagOverAll = Track(BulwarkProcess.Start(new Dictionary<string, string> { ["Bulwark__Worker__Concurrency"] = "3" }, _dir, "worker", "--store", StorePath, "--name", "flag-over-all", "--concurrency", "5", "--queues", "from-flag"));

        var file = await RegisteredAsync("file-only", fileOnly);
        Assert.Equal(7, file.Registration.Concurrency);
        Assert.Equal(["from-file"], file.Registration.Queues);
        Assert.Equal(3, (await RegisteredAsync("env-over-file", envOverFile)).Registration.Concurrency);
        var flagged = await RegisteredAsync("flag-over-all", flagOverAll);
        Assert.Equal(5, flagged.Registration.Concurrency);
        Assert.Equal(["from-flag"], flagged.Registration.Queues);
    }

    [Fact]
    public async Task An_unknown_key_or_a_bad_value_in_the_environment_stops_the_worker_with_one_line_naming_it()
    {
        var (typoExit, typo) = await RunAsync(new Dictionary<string, string> { ["Bulwark__Worker__Concurency"] = "3" }, "worker", "--store", StorePath);
        var (badExit, bad) = await RunAsync(new Dictionary<string, string> { ["Bulwark__Maintenance__WorkerDeadAfter"] = "soon" }, "worker", "--store", StorePath);

        Assert.Equal(2, typoExit);
        Assert.Contains("Bulwark:Worker:Concurency", typo);
        Assert.DoesNotContain("   at ", typo);
        Assert.Equal(2, badExit);
        Assert.Contains("Bulwark:Maintenance:WorkerDeadAfter", bad);
    }

    [Theory]
    [InlineData("Bulwark__Server__WorkerDeadAfter", "soon", "Bulwark:Server:WorkerDeadAfter")]
    [InlineData("Bulwark__Server__DepthSampleInterval", "0s", "DepthSampleInterval")]
    public async Task A_bad_server_setting_stops_serve_with_a_usage_exit_and_one_line_naming_it(string variable, string value, string named)
    {
        var (exit, output) = await RunAsync(new Dictionary<string, string> { [variable] = value }, "serve", "--store", StorePath, "--urls", "http://127.0.0.1:0");

        Assert.Equal(2, exit);
        Assert.Contains(named, output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Serve_takes_its_in_process_workers_concurrency_from_the_environment_unless_the_flag_is_given()
    {
        var env = new Dictionary<string, string> { ["Bulwark__Worker__Concurrency"] = "2" };
        var fromEnv = Track(BulwarkProcess.Start(env, _dir, "serve", "--urls", $"http://127.0.0.1:{FreePort()}", "--store", StorePath, "--name", "serve-env"));
        var fromFlag = Track(BulwarkProcess.Start(env, _dir, "serve", "--urls", $"http://127.0.0.1:{FreePort()}", "--store", StorePath, "--name", "serve-flag", "--workers", "6"));

        Assert.Equal(2, (await RegisteredAsync("serve-env", fromEnv)).Registration.Concurrency);
        Assert.Equal(6, (await RegisteredAsync("serve-flag", fromFlag)).Registration.Concurrency);
        await Poll.UntilAsync(() => Task.FromResult(fromEnv.Output.Contains("2 in-process demo worker slot(s)", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), () => fromEnv.Output);
    }

    private BulwarkProcess Track(BulwarkProcess process)
    {
        _processes.Add(process);
        return process;
    }

    private async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        await using var process = BulwarkProcess.Start(environment, _dir, args);
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (code, process.Output);
    }

    private async Task<WorkerInfo> RegisteredAsync(string name, BulwarkProcess process)
    {
        WorkerInfo? found = null;
        await Poll.UntilAsync(async () =>
        {
            Assert.False(process.HasExited, $"{name} exited:\n{process.Output}");
            if (!File.Exists(StorePath))
            {
                return false;
            }

            await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = StorePath });
            found = (await store.ListWorkersAsync()).FirstOrDefault(w => w.Registration.Name == name && w.State == WorkerState.Active);
            return found is not null;
        }, TimeSpan.FromSeconds(60), () => process.Output);
        return found!;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
