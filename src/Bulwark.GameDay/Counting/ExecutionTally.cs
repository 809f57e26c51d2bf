using System.Globalization;
using Bulwark.GameDay.Load;

namespace Bulwark.GameDay.Counting;

/// <summary>
/// The outside count: acknowledged jobs against the lines in the append file (one per execution) and the jobs the store
/// reports completed. Lost = acknowledged but never completed; executed twice = a line that appears more than once.
/// </summary>
internal sealed record ExecutionTally(
    IReadOnlyList<long> LostIds,
    IReadOnlyDictionary<long, int> DuplicatedIds,
    IReadOnlyList<long> NeverExecutedIds,
    IReadOnlyList<string> UnacknowledgedLines)
{
    public static ExecutionTally From(IReadOnlyList<Ack> acks, IEnumerable<string> lines, IReadOnlySet<long> completedIds)
    {
        var bySeq = acks.ToDictionary(a => a.Seq);
        var executions = new Dictionary<long, int>();
        var unacknowledged = new List<string>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) && bySeq.TryGetValue(seq, out var ack))
            {
                executions[ack.Id] = executions.GetValueOrDefault(ack.Id) + 1;
            }
            else
            {
                // An execution of a job whose enqueue got no answer (or a torn line): counted, never a promise.
                unacknowledged.Add(line);
            }
        }

        return new ExecutionTally(
            acks.Where(a => !completedIds.Contains(a.Id)).Select(a => a.Id).ToArray(),
            executions.Where(e => e.Value > 1).ToDictionary(e => e.Key, e => e.Value),
            acks.Where(a => !executions.ContainsKey(a.Id)).Select(a => a.Id).ToArray(),
            unacknowledged);
    }

    /// <summary>Reads the append file; an absent file means nothing ran yet.</summary>
    public static IReadOnlyList<string> ReadLines(string path) => File.Exists(path) ? File.ReadAllLines(path) : [];
}
