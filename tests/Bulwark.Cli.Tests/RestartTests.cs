using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Bulwark.Jobs;
using Bulwark.Sqlite;
using Bulwark.Storage;

namespace Bulwark.Cli.Tests;

/// <summary>
/// Real <c>bulwark serve</c> and <c>bulwark worker</c> processes restarted under the same <c>--name</c>, as an operator or
/// a supervisor restarts them: after <c>kill -9</c> the next start reclaims at once; after a graceful stop nothing is
/// declared dead.
/// </summary>
public sealed class RestartTests : IAsyncLifetime
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private readonly CliRunner _cli = new();
    private readonly List<BulwarkProcess> _processes = [];
    private SqliteJobStore _store = null!;

    public async Task InitializeAsync() => _store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _cli.StorePath });

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await _store.DisposeAsync();
        _cli.Dispose();
    }

    [Fact]
    public async Task A_server_restarted_under_its_name_after_kill_9_reclaims_its_workers_jobs_at_once()
    {
        // Longer than the test: only a reclaim can take them from the killed server.
        var jobs = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            jobs.Add((await _store.EnqueueAsync([new NewJob { Queue = "default", Type = "demo.sleep", Payload = """{"ms":120000}""" }]))[0].Id);
        }

        var first = StartServe("api-1");
        var firstId = await WorkerIdAsync("api-1", first);
        await Poll.UntilAsync(async () => (await RunningOfAsync(jobs, firstId)) == 3, StartDeadline, () => first.Output);

        first.KillHard();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var second = StartServe("api-1");

        // Printed by the registration of the new server's worker, before its maintenance runs: nothing else reclaims
        // here (no other process is running), so this is the restart taking the jobs back, not a timeout.
        await second.WaitForLineAsync(l => l.Contains("Recovery completed, 3 jobs reclaimed", StringComparison.Ordinal), StartDeadline);
        var workers = await _store.ListWorkersAsync();
        Assert.Equal(WorkerState.Dead, workers.Single(w => w.Registration.Id == firstId).State);
        var secondId = workers.Single(w => w.Registration.Name == "api-1" && w.State == WorkerState.Active).Registration.Id;
        // The restarted server runs them again (how many at once is the suspect rule's business, not the restart's).
        await Poll.UntilAsync(async () => (await RunningOfAsync(jobs, secondId)) >= 1, StartDeadline, () => second.Output);
        foreach (var id in jobs)
        {
            var job = (await _store.GetJobAsync(id))!;
            Assert.NotEqual(firstId, job.LeaseOwner);
            Assert.Contains(job.Errors, e => e.Category == FailureCategory.Crash && e.WorkerId == firstId);
        }
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("worker")]
    public async Task A_gracefully_stopped_host_stays_stopped_when_its_name_starts_again(string command)
    {
        var first = command == "serve" ? StartServe("steady") : StartWorker("steady");
        var firstId = await WorkerIdAsync("steady", first);
        // An operator stops a server that has started; the banner's last line comes after the listener is bound.
        await first.WaitForLineAsync(l => l.Contains("SIGTERM", StringComparison.Ordinal), StartDeadline);
        await first.SignalAsync("TERM");
        var exit = await first.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"exit code {exit}:\n{first.Output}");

        var second = command == "serve" ? StartServe("steady") : StartWorker("steady");
        await second.WaitForLineAsync(l => l.Contains("Recovery completed, 0 jobs reclaimed", StringComparison.Ordinal), StartDeadline);

        // Read as an operator reads the registry.
        var listed = (await _cli.JsonAsync("workers")).GetProperty("workers").EnumerateArray()
            .ToDictionary(w => w.GetProperty("id").GetString()!, w => w.GetProperty("state").GetString());
        Assert.Equal("stopped", listed[firstId]);
        Assert.Equal("active", Assert.Single(listed, w => w.Key != firstId).Value);
    }

    [Fact]
    public async Task A_server_sent_SIGTERM_while_it_starts_deregisters_its_worker_as_stopped_and_exits_0()
    {
        var server = StartServe("early");
        // The worker registers before the listener is bound: a signal now lands in the middle of the start.
        var id = await WorkerIdAsync("early", server);
        await server.SignalAsync("TERM");

        var exit = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"exit code {exit}:\n{server.Output}");
        Assert.Equal(WorkerState.Stopped, (await _store.ListWorkersAsync()).Single(w => w.Registration.Id == id).State);
    }

    private BulwarkProcess StartServe(string name) =>
        Track(BulwarkProcess.Start("serve", "--urls", $"http://127.0.0.1:{FreePort()}", "--store", _cli.StorePath, "--name", name, "--workers", "3"));

    private BulwarkProcess StartWorker(string name) =>
        Track(BulwarkProcess.Start("worker", "--store", _cli.StorePath, "--name", name, "--concurrency", "3"));

    private BulwarkProcess Track(BulwarkProcess process)
    {
        _processes.Add(process);
        return process;
    }

    /// <summary>The id this process's worker registered under (the name followed by a per-start suffix).</summary>
    private async Task<string> WorkerIdAsync(string name, BulwarkProcess process)
    {
        var registered = new Regex($@"Worker ({Regex.Escape(name)}-\S+) registered: name {Regex.Escape(name)},");
        var line = await process.WaitForLineAsync(registered.IsMatch, StartDeadline);
        return registered.Match(line).Groups[1].Value;
    }

    private async Task<int> RunningOfAsync(IEnumerable<long> jobs, string workerId)
    {
        var running = 0;
        foreach (var id in jobs)
        {
            if (await _store.GetJobAsync(id) is { State: JobState.Running } job && job.LeaseOwner == workerId)
            {
                running++;
            }
        }

        return running;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
