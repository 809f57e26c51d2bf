using System.Text.Json;
using Bulwark.Client;
using Bulwark.Hosting;
using Bulwark.Postgres;
using Bulwark.Sqlite;
using Bulwark.Workers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Cli.Bench;

/// <summary>
/// A fresh store file with, optionally, one in-process worker runtime (the real hosted worker, default settings but
/// its concurrency) running <c>bench.noop</c>. Disposing stops the worker and deletes the file.
/// </summary>
internal sealed class BenchHost : IAsyncDisposable
{
    public const string Queue = "bench";
    public const string NoopType = "bench.noop";

    private readonly IHost _host;
    private readonly string _path;
    private readonly bool _ownsFile;
    private bool _started;

    private BenchHost(IHost host, string path, bool ownsFile)
    {
        _host = host;
        _path = path;
        _ownsFile = ownsFile;
        Store = host.Services.GetRequiredService<BenchStore>();
        Client = host.Services.GetRequiredService<JobClient>();
    }

    public BenchStore Store { get; }

    public JobClient Client { get; }

    /// <summary>Called as each handler starts, with the job id (on the handler's thread).</summary>
    public Action<long>? HandlerStarted { get; set; }

    /// <summary>A host on a fresh file (deleted on dispose), or on <paramref name="existingPath"/> (kept).</summary>
    public static BenchHost Create(BenchSettings settings, string scenario, int concurrency = 50, string? existingPath = null)
    {
        var path = existingPath ?? NewPath(settings, scenario);
        var builder = Host.CreateApplicationBuilder(CliHostArgs.Value);
        builder.Logging.ClearProviders();
        BenchHost? self = null;
        builder.Services.AddBulwark(o => o.UseStore(sp =>
            {
                if (settings.Postgres is { } connection)
                {
                    // The path names the run's own schema; the store's LISTEN wakes this host's worker.
                    var postgres = PostgresJobStore.Create(new PostgresStoreOptions { ConnectionString = connection, Schema = path, Signal = sp.GetRequiredService<JobSignal>() });
                    return new BenchStore(postgres, postgres);
                }

                var store = SqliteJobStore.Open(new SqliteStoreOptions { Path = path });
                return new BenchStore(store, store);
            }))
            .AddHandler<JsonElement>(NoopType, (_, context) =>
            {
                self?.HandlerStarted?.Invoke(context.JobId);
                return Task.CompletedTask;
            })
            .AddWorker(w =>
            {
                w.Queues(Queue).Concurrency(concurrency).Name($"bench-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
                if (settings.LeaseAhead is { } ahead)
                {
                    w.LeaseAhead(ahead);
                }
            });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        self = new BenchHost(builder.Build(), path, existingPath is null);
        return self;
    }

    /// <summary>A fresh SQLite file, or with PostgreSQL a fresh schema name.</summary>
    public static string NewPath(BenchSettings settings, string scenario) => settings.Postgres is null
        ? Path.Combine(settings.Directory, $"{scenario}-{Guid.NewGuid():N}.db")
        : $"bench_{scenario}_{Guid.NewGuid():N}"[..30];

    /// <summary>Deletes a run's SQLite files, or drops its PostgreSQL schema.</summary>
    public static void DeleteFiles(BenchSettings settings, string path)
    {
        if (settings.Postgres is { } connection)
        {
            using var npgsql = new Npgsql.NpgsqlConnection(connection);
            npgsql.Open();
            using var drop = npgsql.CreateCommand();
            drop.CommandText = $"DROP SCHEMA IF EXISTS \"{path}\" CASCADE";
            drop.ExecuteNonQuery();
            return;
        }

        DeleteFiles(path);
    }

    public static void DeleteFiles(string path)
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // A leftover file in the bench folder is harmless.
            }
        }

        try
        {
            // The cross-process wake-up's socket folder (SqliteDoorbell).
            Directory.Delete(path + "-bell", recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The no-op jobs of one batch, validated once: producers measure the store, not payload building.</summary>
    public IReadOnlyList<Bulwark.Jobs.NewJob> NoopBatch(int size, int offset = 0, string type = NoopType) =>
        [.. Enumerable.Range(offset, size).Select(i => Client.Build(Queue, type, $$"""{"n":{{i}}}"""))];

    /// <summary>Enqueues <paramref name="count"/> waiting jobs in batches of 1,000 from 4 producers.</summary>
    public Task SeedAsync(long count, CancellationToken cancellationToken) => SeedAsync(count, NoopType, cancellationToken);

    /// <summary>
    /// Enqueues <paramref name="count"/> waiting jobs of <paramref name="type"/> in batches of 1,000 from 4 producers
    /// (<c>demo.noop</c> for <c>bulwark worker</c> processes, which do not know this host's <see cref="NoopType"/>).
    /// </summary>
    public async Task SeedAsync(long count, string type, CancellationToken cancellationToken)
    {
        var batch = NoopBatch(1000, type: type);
        var left = count;
        var producers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var take = (int)Math.Min(1000, Interlocked.Add(ref left, -1000) + 1000);
                if (take <= 0)
                {
                    return;
                }

                await Store.EnqueueAsync(take == 1000 ? batch : [.. batch.Take(take)], cancellationToken);
            }
        }, cancellationToken));
        await Task.WhenAll(producers);
    }

    public async Task StartWorkerAsync(CancellationToken cancellationToken)
    {
        _started = true;
        await _host.StartAsync(cancellationToken);
    }

    public async Task StopWorkerAsync()
    {
        if (_started)
        {
            _started = false;
            await _host.StopAsync();
        }
    }

    /// <summary>Waits (polling the completion count) until <paramref name="completed"/> jobs are done or the deadline passes.</summary>
    public async Task<bool> WaitForCompletedAsync(long completed, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + deadline;
        while (Store.Completed < completed)
        {
            if (DateTime.UtcNow > until)
            {
                return false;
            }

            await Task.Delay(2, cancellationToken);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await StopWorkerAsync();
        // The container disposes the store (it is IAsyncDisposable only, so the host must be disposed asynchronously).
        await ((IAsyncDisposable)_host).DisposeAsync();

        if (_ownsFile)
        {
            DeleteFiles(_path);
        }
    }
}
