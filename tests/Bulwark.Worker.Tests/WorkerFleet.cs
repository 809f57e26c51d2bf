using Bulwark.Jobs;
using Bulwark.Sqlite;

namespace Bulwark.Worker.Tests;

/// <summary>Real <c>bulwark worker</c> processes on one SQLite store in a temp folder of their own; all of it goes on dispose.</summary>
internal sealed class WorkerFleet : IAsyncDisposable
{
    private readonly List<BulwarkProcess> _workers = [];

    private WorkerFleet(string dir, SqliteJobStore store)
    {
        Dir = dir;
        Store = store;
    }

    public string Dir { get; }

    /// <summary>The store the workers use, opened here too so tests enqueue and measure from outside.</summary>
    public SqliteJobStore Store { get; }

    private string StorePath => Path.Combine(Dir, "jobs.db");

    public static async Task<WorkerFleet> OpenAsync(string dirPrefix)
    {
        var dir = Directory.CreateTempSubdirectory(dirPrefix).FullName;
        var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(dir, "jobs.db") });
        return new WorkerFleet(dir, store);
    }

    public BulwarkProcess Start(string name, params string[] args)
    {
        var worker = BulwarkProcess.Start(["worker", "--store", StorePath, "--name", name, .. args]);
        _workers.Add(worker);
        return worker;
    }

    public async Task<bool> AllInStateAsync(IEnumerable<long> ids, JobState state)
    {
        foreach (var id in ids)
        {
            if ((await Store.GetJobAsync(id))?.State != state)
            {
                return false;
            }
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        await Store.DisposeAsync();
        Directory.Delete(Dir, recursive: true);
    }
}
