using System.CommandLine;
using Bulwark.GameDay;
using Bulwark.GameDay.Reports;
using Bulwark.GameDay.Scenarios;

namespace Bulwark.Cli.Commands;

/// <summary>
/// <c>bulwark gameday &lt;name|all&gt; [--quick] [--store PATH] [--report report.md] [--json report.json] [--runs N] [--seed S]</c>: runs the runbook
/// scenarios of SCENARIOS.md for real (separate server and worker processes, real signals) and writes the report.
/// Exit 0 when every "must hold" line held, 1 when any failed, 2 on bad input.
/// </summary>
internal static class GameDayCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("scenario") { Description = $"A scenario ({string.Join(", ", ScenarioCatalog.Names)}) or 'all'." };
        var quick = new Option<bool>("--quick") { Description = "Short, CI-sized runs (a few hundred jobs, 3 s leases)." };
        var store = new Option<string?>("--store") { Description = "SQLite path prefix: scenario S uses PATH.S.db (default: a fresh file per scenario under --work-dir); or a PostgreSQL server (postgres:// URL or connection string): each scenario gets a fresh database there, and only 1, 2, 5, 7, 12, 13, 15 and 16 run.", HelpName = "PATH|URL" };
        var report = new Option<string?>("--report") { Description = "Write the Markdown report here.", HelpName = "FILE" };
        var json = new Option<string?>("--json") { Description = "Write the JSON report here.", HelpName = "FILE" };
        var work = new Option<string?>("--work-dir") { Description = "Where stores, append files and process logs are kept (default: a new temp folder).", HelpName = "DIR" };
        var runs = new Option<int?>("--runs") { Description = "chaos only: how many rounds of the campaign (default 3 with --quick, else 10).", HelpName = "N" };
        var seed = new Option<int?>("--seed") { Description = "chaos only: the seed of the first round (round k uses S+k-1; default: a random one, printed).", HelpName = "S" };
        var command = new Command("gameday", "Run runbook failure scenarios for real and report the timeline, the impact and each guarantee.")
        {
            name, quick, store, report, json, work, runs, seed,
        };
        command.SetAction((r, ct) => RunAsync(r.GetValue(name)!, r.GetValue(quick), r.GetValue(store), r.GetValue(report), r.GetValue(json), r.GetValue(work), (r.GetValue(runs), r.GetValue(seed)), ct));
        return command;
    }

    private static async Task<int> RunAsync(string name, bool quick, string? store, string? reportPath, string? jsonPath, string? workDir, (int? Runs, int? Seed) chaos, CancellationToken cancellationToken)
    {
        if ((chaos.Runs is not null || chaos.Seed is not null) && name != "chaos")
        {
            Console.Error.WriteLine($"bulwark: --runs and --seed belong to the chaos scenario; '{name}' takes neither (run: bulwark gameday chaos --runs N --seed S).");
            return ExitCodes.Usage;
        }

        if (chaos.Runs is < 1 or > 10_000)
        {
            Console.Error.WriteLine($"bulwark: --runs must be between 1 and 10000 (got {chaos.Runs}).");
            return ExitCodes.Usage;
        }

        if (chaos.Seed is < 0 or > int.MaxValue - 10_000)
        {
            Console.Error.WriteLine($"bulwark: --seed must be between 0 and {int.MaxValue - 10_000} (got {chaos.Seed}).");
            return ExitCodes.Usage;
        }

        var postgres = store is not null && StoreSelection.IsPostgres(store) ? store : null;
        IReadOnlyList<IScenario> scenarios;
        IReadOnlyList<NotRun> notRun;
        string? Blocked(IScenario s) => s.WhyCannotRun()
            ?? (postgres is not null && !s.RunsOnPostgres ? "it runs on the embedded store only (SCENARIOS.md: 1, 2, 5, 7, 12, 13, 15 and 16 also run on PostgreSQL)." : null);
        if (name == "all")
        {
            scenarios = [.. ScenarioCatalog.Runnable.Where(s => Blocked(s) is null)];
            notRun = [.. ScenarioCatalog.Runnable.Where(s => Blocked(s) is not null).Select(s => new NotRun(s.Name, Blocked(s)!)), .. ScenarioCatalog.Missing];
        }
        else if (ScenarioCatalog.Runnable.FirstOrDefault(s => s.Name == name) is { } one)
        {
            if (Blocked(one) is { } reason)
            {
                Console.Error.WriteLine($"bulwark: the game day cannot run '{name}' on this machine: {reason}");
                return ExitCodes.Usage;
            }

            scenarios = [one is Bulwark.GameDay.Chaos.ChaosScenario ? new Bulwark.GameDay.Chaos.ChaosScenario(chaos.Runs, chaos.Seed) : one];
            notRun = [];
        }
        else if (ScenarioCatalog.Missing.FirstOrDefault(m => m.Name == name) is { } missing)
        {
            Console.Error.WriteLine($"bulwark: the game day cannot run '{name}' yet: {missing.Reason}");
            return ExitCodes.Usage;
        }
        else
        {
            Console.Error.WriteLine($"bulwark: there is no scenario '{name}'; choose one of {string.Join(", ", ScenarioCatalog.Names)}, or 'all'.");
            return ExitCodes.Usage;
        }

        var directory = workDir ?? Path.Combine(Path.GetTempPath(), $"bulwark-gameday-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        var options = new GameDayOptions
        {
            CliDll = typeof(GameDayCommand).Assembly.Location,
            Quick = quick,
            StorePrefix = store is null || postgres is not null ? null : Path.GetFullPath(store),
            Postgres = postgres,
            WorkDirectory = directory,
            Progress = Console.Error,
        };
        Console.Error.WriteLine($"bulwark gameday: {scenarios.Count} scenario(s){(quick ? " (--quick)" : "")}; logs and stores under {directory}");
        var result = await new GameDayRunner(options, TimeProvider.System).RunAsync(scenarios, notRun, cancellationToken);

        var markdown = MarkdownReport.Write(result);
        if (reportPath is not null)
        {
            await File.WriteAllTextAsync(reportPath, markdown, cancellationToken);
        }
        else
        {
            Console.WriteLine(markdown);
        }

        if (jsonPath is not null)
        {
            await File.WriteAllTextAsync(jsonPath, JsonReport.Write(result), cancellationToken);
        }

        Console.Error.WriteLine($"bulwark gameday: {(result.Passed ? "PASSED" : "FAILED")}: {result.Scenarios.Count(s => s.Passed)} of {result.Scenarios.Count} scenario(s) held every line, in {result.DurationSeconds:0.0} s.");
        return result.Passed ? ExitCodes.Success : ExitCodes.Failure;
    }
}
