using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace Bulwark.Cli.Tests;

/// <summary>Runs the built CLI (<c>Bulwark.Cli.dll</c>) as a separate process, in a temp folder of its own, on a store file of its own.</summary>
public sealed class CliRunner : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    public CliRunner()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("bulwark-cli-tests-").FullName;
        StorePath = Path.Combine(Directory, "jobs.db");
    }

    /// <summary>The test's own folder (also the CLI's working directory).</summary>
    public string Directory { get; }

    /// <summary>The store file the test uses.</summary>
    public string StorePath { get; }

    public static string CliDll => Metadata("BulwarkCliDll");

    public static string RepositoryRoot => Metadata("RepositoryRoot");

    /// <summary>Runs <c>bulwark ARGS --store STORE</c>.</summary>
    public Task<CliResult> RunAsync(params string[] args) => RunRawAsync([.. args, "--store", StorePath]);

    /// <summary>Runs <c>bulwark ARGS</c> with exactly these arguments and no BULWARK_* variables but <paramref name="environment"/>.</summary>
    public async Task<CliResult> RunRawAsync(string[] args, IReadOnlyDictionary<string, string>? environment = null, string? stdin = null)
    {
        Assert.True(File.Exists(CliDll), $"The CLI is not built at {CliDll}; build src/Bulwark.Cli first.");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("BULWARK_", StringComparison.Ordinal)).ToArray())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bulwark {string.Join(' ', args)} did not exit within {Deadline}.");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a command with <c>--json</c> and parses its output, asserting success.</summary>
    public async Task<JsonElement> JsonAsync(params string[] args)
    {
        var result = await RunAsync([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    /// <summary>How many jobs the store holds (all queues, all states), read through the CLI.</summary>
    public async Task<int> CountJobsAsync()
    {
        var page = await JsonAsync("jobs", "list", "--limit", "1000");
        return page.GetProperty("items").GetArrayLength();
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; a failing Dispose would hide the test's own result.
        }
    }

    private static string Metadata(string key) =>
        typeof(CliRunner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
