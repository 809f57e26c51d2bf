using Bulwark.Jobs;
using Bulwark.Sqlite;
using Bulwark.Workers;

// Usage: Bulwark.Sqlite.CrashChild <db path> [producers]
// Prints one acknowledged job id per line, each only after its EnqueueAsync returned, flushed at once.
// Usage: Bulwark.Sqlite.CrashChild <db path> --listen
// Opens the store as a worker host does (with a JobSignal), prints "listening", then "woken" at every pulse.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Bulwark.Sqlite.CrashChild <db path> [producers | --listen]");
    return 2;
}

if (args.Length > 1 && args[1] == "--listen")
{
    var signal = new JobSignal();
    await using var listening = SqliteJobStore.Open(new SqliteStoreOptions { Path = args[0], Signal = signal });
    var lines = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
    lines.Write("listening\n");
    while (true)
    {
        // The wait is long: a line is printed only for a pulse.
        var pulse = signal.WaitAsync(TimeSpan.FromDays(1), TimeProvider.System, CancellationToken.None);
        await pulse;
        lines.Write("woken\n");
    }
}

var producers = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 8;
await using var store = SqliteJobStore.Open(new SqliteStoreOptions { Path = args[0] });
var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
var gate = new Lock();

await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
{
    for (var n = 0; ; n++)
    {
        var job = JobValidator.Validate(new NewJob { Queue = "crash", Type = "demo.noop", Payload = $$"""{"producer":{{p}},"n":{{n}}}""" });
        var result = await store.EnqueueAsync([job]);
        lock (gate)
        {
            // One write per line, so a kill never leaves half an id behind.
            output.Write($"{result[0].Id}\n");
        }
    }
})));
return 0;
