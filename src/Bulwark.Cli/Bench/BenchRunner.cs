using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Bulwark.Sqlite;

namespace Bulwark.Cli.Bench;

/// <summary>Runs the chosen scenarios, then prints the table (header: machine, commit, store, load) and writes the JSON.</summary>
internal sealed class BenchRunner(BenchSettings settings)
{
    public static readonly IReadOnlyList<IBenchScenario> Scenarios =
    [
        new EnqueueScenario(),
        new DrainScenario(),
        new E2eScenario(),
        new LatencyScenario(),
        new BacklogScenario(),
        new RecoveryScenario(),
    ];

    public static IReadOnlyList<string> Names => [.. Scenarios.Select(s => s.Name)];

    public async Task<int> RunAsync(string name, TextWriter output, CancellationToken cancellationToken)
    {
        var chosen = name == "all" ? Scenarios : Scenarios.Where(s => s.Name == name).ToArray();
        var header = Header();
        var loadBefore = LoadAverages.Current();
        var started = Stopwatch.GetTimestamp();
        var figures = new List<BenchFigure>();
        foreach (var scenario in chosen)
        {
            settings.Progress.WriteLine($"bulwark bench: {scenario.Name} (load {LoadAverages.Current():N1})");
            figures.AddRange(await scenario.RunAsync(settings, cancellationToken));
        }

        header["load_average_start"] = loadBefore;
        header["load_average_end"] = LoadAverages.Current();
        header["seconds"] = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 1);
        PrintTable(output, header, figures);
        if (settings.JsonPath is { } jsonPath)
        {
            var document = new Dictionary<string, object?>(header)
            {
                ["scenarios"] = chosen.ToDictionary(
                    s => s.Name,
                    s => figures.Where(f => f.Scenario == s.Name).Select(f => new
                    {
                        name = f.Name,
                        unit = f.Unit,
                        median = Math.Round(f.Median, 3),
                        min = Math.Round(f.Min, 3),
                        max = Math.Round(f.Max, 3),
                        runs = f.Values.Select(v => Math.Round(v, 3)).ToArray(),
                        load_average = f.LoadAverage,
                        counts = f.Counts,
                    }).ToArray()),
            };
            var full = Path.GetFullPath(jsonPath);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
            output.WriteLine($"Wrote {full}");
        }

        return 0;
    }

    private Dictionary<string, object?> Header() => new(StringComparer.Ordinal)
    {
        ["date"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        ["commit"] = Commit(),
        ["machine"] = new Dictionary<string, object?>
        {
            ["cores"] = Environment.ProcessorCount,
            ["memory_gib"] = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024), 1),
            ["os"] = RuntimeInformation.OSDescription,
            ["runtime"] = RuntimeInformation.FrameworkDescription,
        },
        ["store"] = new Dictionary<string, object?>
        {
            ["kind"] = settings.Postgres is null ? "sqlite" : "postgres",
            ["sqlite_version"] = SqliteVersion(),
            ["journal_mode"] = settings.Postgres is null ? "wal" : null,
            ["synchronous"] = settings.Postgres is null ? "full" : "synchronous_commit=on",
            ["group_commit_max_batch"] = settings.Postgres is null ? new SqliteStoreOptions().MaxBatchSize : 256,
            ["directory"] = settings.Directory,
        },
        ["quick"] = settings.Quick,
        ["runs"] = settings.Runs,
        ["lease_ahead"] = settings.LeaseAhead ?? new Workers.WorkerOptions().LeaseAhead,
    };

    private static void PrintTable(TextWriter output, Dictionary<string, object?> header, List<BenchFigure> figures)
    {
        var machine = (Dictionary<string, object?>)header["machine"]!;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Bulwark bench — commit {header["commit"]}, {machine["cores"]} cores, {machine["memory_gib"]} GiB, {machine["os"]}, {machine["runtime"]}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Store: {(((Dictionary<string, object?>)header["store"]!)["kind"] is "sqlite" ? $"SQLite {((Dictionary<string, object?>)header["store"]!)["sqlite_version"]}, WAL, synchronous=FULL" : "PostgreSQL, synchronous_commit=on")}, group commit; {header["runs"]} runs per figure{((bool)header["quick"]! ? " (--quick)" : "")}; load average {header["load_average_start"]:N1} → {header["load_average_end"]:N1}"));
        output.WriteLine();
        output.WriteLine("| scenario | figure | median | min | max | unit | load |");
        output.WriteLine("|---|---|---:|---:|---:|---|---:|");
        foreach (var f in figures)
        {
            var format = f.Unit is "jobs/s" or "jobs/s completed" ? "N0" : "N2";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {f.Scenario} | {f.Name} | {f.Median.ToString(format, CultureInfo.InvariantCulture)} | {f.Min.ToString(format, CultureInfo.InvariantCulture)} | {f.Max.ToString(format, CultureInfo.InvariantCulture)} | {f.Unit} | {f.LoadAverage:N1} |"));
        }
    }

    private static string SqliteVersion()
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sqlite_version()";
        return (string)command.ExecuteScalar()!;
    }

    private static string Commit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD")
            {
                WorkingDirectory = Path.GetDirectoryName(typeof(BenchRunner).Assembly.Location),
                RedirectStandardOutput = true, RedirectStandardError = true,
                UseShellExecute = false,
            });
            var text = git!.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && text.Length > 0 ? text : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
