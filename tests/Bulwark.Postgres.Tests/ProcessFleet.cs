using System.Net.Http.Json;
using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Postgres.Tests;

/// <summary>
/// Real <c>bulwark serve</c> and <c>bulwark worker</c> processes on one fresh PostgreSQL database, as separate machines
/// would run them, plus a store of the test's own to look at the jobs and a folder for <c>demo.append</c> files.
/// </summary>
internal sealed class ProcessFleet : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly List<BulwarkProcess> _processes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private PostgresJobStore? _inspect;

    private ProcessFleet(string store, string folder)
    {
        Store = store;
        Folder = folder;
    }

    /// <summary>The Npgsql connection string every process gets as <c>--store</c>.</summary>
    public string Store { get; }

    /// <summary>A temporary folder of this fleet's own.</summary>
    public string Folder { get; }

    /// <summary>The test's own view of the database (no LISTEN connection).</summary>
    public PostgresJobStore Inspect => _inspect ?? throw new InvalidOperationException("Start a process first: the processes migrate the schema.");

    public static async Task<ProcessFleet> CreateAsync(string prefix)
    {
        var store = await PostgresTestDatabase.NewDatabaseAsync(prefix);
        var folder = Directory.CreateTempSubdirectory($"bulwark-{prefix}-").FullName;
        return new ProcessFleet(store, folder);
    }

    /// <summary>Starts <c>bulwark serve --workers 0</c> on a free loopback port and waits until it listens.</summary>
    public async Task<BulwarkProcess> StartServerAsync()
    {
        var server = Track(BulwarkProcess.Start("serve", "--store", Store, "--workers", "0", "--urls", "http://127.0.0.1:0"));
        var line = await server.WaitForLineAsync(l => l.StartsWith("Bulwark server listening on ", StringComparison.Ordinal), StartTimeout);
        _http.BaseAddress = new Uri(line["Bulwark server listening on ".Length..].Split(',')[0].Trim());
        await OpenInspectionAsync();
        return server;
    }

    /// <summary>Starts <c>bulwark worker --name NAME</c> and waits until it has registered; returns it and its worker id.</summary>
    public async Task<(BulwarkProcess Process, string Id)> StartWorkerAsync(string name, params string[] extra)
    {
        var worker = Track(BulwarkProcess.Start(["worker", "--store", Store, "--name", name, .. extra]));
        var line = await worker.WaitForLineAsync(l => l.Contains(" registered: name ", StringComparison.Ordinal), StartTimeout);
        var id = line[(line.IndexOf("Worker ", StringComparison.Ordinal) + "Worker ".Length)..].Split(' ')[0];
        await OpenInspectionAsync();
        return (worker, id);
    }

    /// <summary>Enqueues through the server's API and returns the acknowledged id.</summary>
    public async Task<long> EnqueueAsync(object job, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsJsonAsync("/api/v1/jobs", job, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /api/v1/jobs answered {(int)response.StatusCode}: {body}");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("id").GetInt64();
    }

    /// <summary>Every job in the database, newest first.</summary>
    public async Task<IReadOnlyList<JobSnapshot>> AllJobsAsync()
    {
        var all = new List<JobSnapshot>();
        long? before = null;
        while (true)
        {
            var page = await Inspect.ListJobsAsync(new JobListQuery(BeforeId: before, Limit: JobListQuery.MaxLimit));
            all.AddRange(page.Items);
            if (page.NextCursor is not { } next)
            {
                return all;
            }

            before = next;
        }
    }

    /// <summary>How many times each line appears in a <c>demo.append</c> file.</summary>
    public static Dictionary<string, int> CountLines(string path) =>
        File.Exists(path)
            ? File.ReadAllLines(path).Where(l => l.Length > 0).GroupBy(l => l, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal)
            : [];

    /// <summary>Everything the processes printed, for failure messages.</summary>
    public string Outputs() => string.Join("\n", _processes.Select(p => $"--- process {p.Pid} ---\n{p.Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        if (_inspect is not null)
        {
            await _inspect.DisposeAsync();
        }

        _http.Dispose();
        await PostgresTestDatabase.DropDatabaseAsync(Store);
        Directory.Delete(Folder, recursive: true);
    }

    private BulwarkProcess Track(BulwarkProcess process)
    {
        _processes.Add(process);
        return process;
    }

    private async Task OpenInspectionAsync() =>
        _inspect ??= await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = Store, Listen = false });
}
