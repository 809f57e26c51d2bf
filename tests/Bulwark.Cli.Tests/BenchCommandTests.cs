using System.Diagnostics;
using System.Text.Json;

namespace Bulwark.Cli.Tests;

/// <summary>
/// <c>bulwark bench</c> as a smoke test: the quick run of every scenario finishes and writes its JSON. Speeds are never
/// asserted (the machine is shared); only that each scenario ran and reported consistent figures.
/// </summary>
public sealed class BenchCommandTests : IDisposable
{
    private static readonly string[] Scenarios = ["enqueue", "drain", "e2e", "latency", "backlog", "recovery"];

    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Quick_bench_of_all_scenarios_prints_the_table_and_writes_every_scenario_to_json()
    {
        var json = Path.Combine(_cli.Directory, "bench.json");
        var stores = Directory.CreateDirectory(Path.Combine(_cli.Directory, "stores")).FullName;

        var result = await RunAsync("bench", "all", "--quick", "--json", json, "--store", stores);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("| scenario | figure | median | min | max | unit | load |", result.Stdout, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var root = document.RootElement;
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("machine").GetProperty("cores").GetInt32());
        Assert.Equal("full", root.GetProperty("store").GetProperty("synchronous").GetString());
        Assert.True(root.GetProperty("quick").GetBoolean());
        var scenarios = root.GetProperty("scenarios");
        Assert.Equal(Scenarios.Order(), scenarios.EnumerateObject().Select(p => p.Name).Order());
        foreach (var scenario in Scenarios)
        {
            var figures = scenarios.GetProperty(scenario).EnumerateArray().ToArray();
            Assert.NotEmpty(figures);
            foreach (var figure in figures)
            {
                var runs = figure.GetProperty("runs").EnumerateArray().Select(r => r.GetDouble()).ToArray();
                var median = figure.GetProperty("median").GetDouble();
                Assert.Equal(3, runs.Length);
                Assert.All(runs, r => Assert.True(r > 0, $"{scenario} / {figure.GetProperty("name")} has a run of {r}"));
                Assert.InRange(median, figure.GetProperty("min").GetDouble(), figure.GetProperty("max").GetDouble());
            }
        }

        // Both drain figures: the in-process worker and two real bulwark worker processes.
        var drains = scenarios.GetProperty("drain").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToArray();
        Assert.Contains(drains, n => n!.Contains("1 process", StringComparison.Ordinal));
        Assert.Contains(drains, n => n!.Contains("2 processes", StringComparison.Ordinal));

        // A folder the user gave is kept, without the store files the runs created.
        Assert.True(Directory.Exists(stores));
        Assert.Empty(Directory.EnumerateFiles(stores, "*.db*"));
    }

    [Fact]
    public async Task An_unknown_scenario_is_refused_with_the_list_of_scenarios()
    {
        var result = await RunAsync("bench", "fastest");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no bench scenario 'fastest'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("enqueue, drain, e2e, latency, backlog, recovery", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fewer_than_three_runs_are_refused()
    {
        var result = await RunAsync("bench", "enqueue", "--runs", "1");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--runs", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Like <see cref="CliRunner.RunRawAsync"/>, with a deadline that suits a minute-long quick bench on a loaded machine.</summary>
    private async Task<CliResult> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _cli.Directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CliRunner.CliDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bulwark {string.Join(' ', args)} did not exit within 6 minutes.\n{await stderr}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
