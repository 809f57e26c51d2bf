using System.Globalization;

namespace Bulwark.GameDay.Chaos;

/// <summary>One line a <c>demo.trace</c> execution wrote: <c>start|fail|finish JOB ATTEMPT EPOCH WORKER UNIX_MS</c>.</summary>
internal sealed record TraceRecord(string Kind, long JobId, int Attempt, long Epoch, string Worker, long AtUnixMs)
{
    /// <summary>Every record of every <c>*.trace</c> file in <paramref name="directory"/>; a torn last line (a process killed while writing) is skipped.</summary>
    public static IReadOnlyList<TraceRecord> ReadAll(string directory) =>
        !Directory.Exists(directory) ? [] :
        [.. Directory.EnumerateFiles(directory, "*.trace").SelectMany(File.ReadAllLines).Select(Parse).OfType<TraceRecord>()];

    public static TraceRecord? Parse(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 6 && parts[0] is "start" or "fail" or "finish"
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var job)
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var attempt)
            && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
            && long.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out var at)
            ? new TraceRecord(parts[0], job, attempt, epoch, parts[4], at)
            : null;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Kind} {JobId} {Attempt} {Epoch} {Worker} {AtUnixMs}");
}
