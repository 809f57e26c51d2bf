using System.CommandLine;
using Bulwark.Cli.Bench;

namespace Bulwark.Cli.Commands;

/// <summary>
/// <c>bulwark bench &lt;enqueue|drain|e2e|latency|backlog|recovery|all&gt; [--store DIR] [--quick] [--runs N] [--json FILE]</c>:
/// throughput, latency, backlog and recovery figures on the embedded store (fsync on), each the median of several runs.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var scenario = new Argument<string>("scenario") { Description = $"A scenario ({string.Join(", ", BenchRunner.Names)}) or 'all'." };
        var store = new Option<string?>("--store") { Description = "Folder for the fresh SQLite files each run creates and deletes (default: a new temp folder), or a postgres:// URL: each run then uses a fresh schema.", HelpName = "DIR|URL" };
        var quick = new Option<bool>("--quick") { Description = "Small sizes and short runs (about a minute for 'all'): a smoke test, not figures to quote." };
        var runs = CliValues.Int("--runs", "Runs per figure; the table shows their median, min and max (3–50, default 3).", 3, 3, 50);
        var json = new Option<string?>("--json") { Description = "Also write the figures and the header as JSON here.", HelpName = "FILE" };
        var leaseAhead = CliValues.OptionalInt("--lease-ahead", "The workers' LeaseAhead (default: the worker's default), to compare settings in one sitting.", 0, 10_000);
        var command = new Command("bench", "Measure enqueue, drain, end-to-end, latency, backlog and recovery on the embedded store.")
        {
            scenario, store, quick, runs, json, leaseAhead,
        };
        command.SetAction((r, ct) => RunAsync(r.GetValue(scenario)!, r.GetValue(store), r.GetValue(quick), r.GetValue(runs), r.GetValue(json), r.GetValue(leaseAhead), ct));
        return command;
    }

    /// <summary>A postgres:// URL as Npgsql keywords (a keyword string is passed through), for the store and for dropping schemas.</summary>
    private static string NpgsqlKeywords(string store)
    {
        if (!store.StartsWith("postgres", StringComparison.OrdinalIgnoreCase) || !Uri.TryCreate(store, UriKind.Absolute, out var uri))
        {
            return store;
        }

        var user = uri.UserInfo.Split(':', 2);
        var builder = new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = uri.AbsolutePath.Trim('/'),
            Username = Uri.UnescapeDataString(user[0]),
        };
        if (user.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(user[1]);
        }

        return builder.ConnectionString;
    }

    private static async Task<int> RunAsync(string scenario, string? store, bool quick, int runs, string? json, int? leaseAhead, CancellationToken cancellationToken)
    {
        if (scenario != "all" && !BenchRunner.Names.Contains(scenario))
        {
            Console.Error.WriteLine($"bulwark: there is no bench scenario '{scenario}'; choose one of {string.Join(", ", BenchRunner.Names)}, or 'all'.");
            return ExitCodes.Usage;
        }

        string? postgres = null;
        if (store is not null && StoreSelection.IsPostgres(store))
        {
            postgres = NpgsqlKeywords(store);
            store = null;
        }

        if (store is not null && File.Exists(store))
        {
            Console.Error.WriteLine($"bulwark: --store '{store}' is a file; give a folder where the bench can create and delete its own store files.");
            return ExitCodes.Usage;
        }

        var directory = Path.GetFullPath(store ?? Path.Combine(Path.GetTempPath(), $"bulwark-bench-{Environment.ProcessId}-{Guid.NewGuid():N}"));
        var created = !Directory.Exists(directory);
        Directory.CreateDirectory(directory);
        try
        {
            var settings = new BenchSettings
            {
                Directory = directory,
                Postgres = postgres,
                Quick = quick,
                Runs = runs,
                JsonPath = json,
                LeaseAhead = leaseAhead,
                CliDll = typeof(BenchCommand).Assembly.Location,
                Progress = Console.Error,
            };
            return await new BenchRunner(settings).RunAsync(scenario, Console.Out, cancellationToken);
        }
        finally
        {
            if (created)
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (IOException)
                {
                    // Leftover bench files in a temp folder are harmless.
                }
            }
        }
    }
}
