using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Bulwark.GameDay.Scenarios;

namespace Bulwark.GameDay.Tests;

/// <summary>
/// Runs <c>bulwark gameday &lt;scenario&gt; --quick</c> as a real process (which starts its own server and worker
/// processes) and reads the JSON report. One class, so the scenarios run one after another and never compete for the CPU.
/// </summary>
public sealed class GameDayCliTests : IDisposable
{
    private static readonly string CliDll = typeof(GameDayCliTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BulwarkCliDll").Value!;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"bulwark-gameday-tests-{Guid.NewGuid():N}");

    public GameDayCliTests() => Directory.CreateDirectory(_directory);

    public static TheoryData<string> Scenarios => new(
        "worker-crash", "power-loss", "storage-failure", "stuck-job", "overload", "dependency-deadlock", "graceful-restart", "external-outage",
        "malformed-payload", "handler-panic", "clock-skew", "poison-job", "cascading-failure", "resource-exhaustion", "rolling-restart", "chaos");

    public static TheoryData<string> PostgresScenarios => new("worker-crash", "power-loss", "overload", "graceful-restart", "clock-skew", "poison-job", "rolling-restart", "chaos");

    [Theory]
    [MemberData(nameof(PostgresScenarios))]
    public async Task On_postgres_a_quick_scenario_passes_every_line_and_exits_zero(string scenario)
    {
        var server = Environment.GetEnvironmentVariable("BULWARK_TEST_POSTGRES");
        Assert.False(string.IsNullOrWhiteSpace(server),
            "BULWARK_TEST_POSTGRES is not set: the PostgreSQL game day needs a server. Run ./test.sh, or scripts/postgres.sh start && eval \"$(scripts/postgres.sh env)\" before dotnet test.");

        await RunScenarioAsync(scenario, "pg-" + scenario, "--store", server!);
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task A_quick_scenario_passes_every_line_and_exits_zero(string scenario)
    {
        if (ScenarioCatalog.Runnable.Single(s => s.Name == scenario).WhyCannotRun() is { } reason)
        {
            // storage-failure mounts a tmpfs: without root it must refuse clearly rather than pretend.
            var (refusedExit, refusal) = await RunAsync(TimeSpan.FromMinutes(1), "gameday", scenario, "--quick");
            Assert.Equal(2, refusedExit);
            Assert.Contains(reason, refusal, StringComparison.Ordinal);
            return;
        }

        await RunScenarioAsync(scenario, scenario);
    }

    private async Task RunScenarioAsync(string scenario, string label, params string[] extra)
    {
        var json = Path.Combine(_directory, label + ".json");
        var markdown = Path.Combine(_directory, label + ".md");
        var (exit, output) = await RunAsync(TimeSpan.FromMinutes(4), ["gameday", scenario, "--quick", "--json", json, "--report", markdown, "--work-dir", Path.Combine(_directory, "work"), .. extra]);

        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var failed = report.RootElement.GetProperty("scenarios").EnumerateArray()
            .SelectMany(s => s.GetProperty("checks").EnumerateArray())
            .Where(c => !c.GetProperty("passed").GetBoolean())
            .Select(c => $"{c.GetProperty("line").GetString()}: {c.GetProperty("evidence").GetString()}")
            .ToArray();
        Assert.True(failed.Length == 0, $"failed lines:\n{string.Join('\n', failed)}\n\noutput:\n{output}");
        Assert.Equal(0, exit);
        var only = Assert.Single(report.RootElement.GetProperty("scenarios").EnumerateArray());
        Assert.Equal(scenario, only.GetProperty("name").GetString());
        Assert.NotEmpty(only.GetProperty("checks").EnumerateArray());
        Assert.Contains(only.GetProperty("timeline").EnumerateArray(), t => t.GetProperty("event").GetString() == "failure injected");
        Assert.Contains("## " + scenario, await File.ReadAllTextAsync(markdown), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_scenario_is_refused_with_the_list_of_names()
    {
        var (exit, output) = await RunAsync(TimeSpan.FromMinutes(1), "gameday", "meteor-strike", "--quick");

        Assert.Equal(2, exit);
        Assert.Contains("there is no scenario 'meteor-strike'", output, StringComparison.Ordinal);
        Assert.Contains("worker-crash", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("worker-crash --runs 3", "--runs and --seed belong to the chaos scenario")]
    [InlineData("chaos --runs 0", "--runs must be between 1 and 10000 (got 0)")]
    [InlineData("chaos --runs 20000", "--runs must be between 1 and 10000 (got 20000)")]
    public async Task Runs_and_seed_are_refused_where_they_do_not_apply(string arguments, string message)
    {
        var (exit, output) = await RunAsync(TimeSpan.FromMinutes(1), ["gameday", .. arguments.Split(' '), "--quick"]);

        Assert.Equal(2, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_postgres_a_scenario_of_the_embedded_store_only_is_refused_with_the_reason()
    {
        var (exit, output) = await RunAsync(TimeSpan.FromMinutes(1), "gameday", "stuck-job", "--quick", "--store", "postgres://localhost/bulwark");

        Assert.Equal(2, exit);
        Assert.Contains("runs on the embedded store only", output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A straggling child may still hold a log open; the temp folder is cleaned by the OS.
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(TimeSpan timeout, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(CliDll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bulwark {string.Join(' ', arguments)} did not finish within {timeout}: {await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
