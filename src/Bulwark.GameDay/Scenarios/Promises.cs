using Bulwark.GameDay.Api;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>The "must hold" lines that recur across scenarios, each with its evidence.</summary>
internal static class Promises
{
    public static Check NoneLost(Measurement m) => Check.That(
        "none lost (every acknowledged job completed)",
        m.Tally.LostIds.Count == 0,
        m.Tally.LostIds.Count == 0
            ? $"{m.Impact.Acknowledged} acknowledged, {m.Impact.Completed} completed in the store, every acknowledged id among them"
            : $"{m.Tally.LostIds.Count} acknowledged but not completed: ids {Ids(m.Tally.LostIds)}");

    public static Check AllExecuted(Measurement m) => Check.That(
        "every acknowledged job ran (its line is in the harness's file)",
        m.Tally.NeverExecutedIds.Count == 0,
        m.Tally.NeverExecutedIds.Count == 0
            ? $"{m.Impact.Acknowledged - m.Tally.NeverExecutedIds.Count} of {m.Impact.Acknowledged} acknowledged sequence numbers found in the append file"
            : $"no line for ids {Ids(m.Tally.NeverExecutedIds)}");

    public static Check NoDuplicates(Measurement m) => Check.That(
        "no job executed twice",
        m.Tally.DuplicatedIds.Count == 0,
        m.Tally.DuplicatedIds.Count == 0 ? "every line of the append file appears once" : $"executed more than once: ids {Ids([.. m.Tally.DuplicatedIds.Keys])}");

    /// <summary>
    /// Duplicates are allowed only for jobs that lost a run to a crash of one of <paramref name="victims"/>: such a job
    /// carries a <c>crash</c> error record. Anything else executed twice fails the line.
    /// </summary>
    public static async Task<Check> DuplicatesOnlyFromCrashesAsync(Measurement m, BulwarkApi api, IReadOnlyCollection<string> victims, CancellationToken cancellationToken)
    {
        var unexplained = new List<long>();
        foreach (var id in m.Tally.DuplicatedIds.Keys)
        {
            var job = await api.GetJobAsync(id, cancellationToken);
            if (!job.Errors.Any(e => e.Category == "crash" && (e.WorkerId is null || victims.Any(v => e.WorkerId.StartsWith(v + "-", StringComparison.Ordinal)))))
            {
                unexplained.Add(id);
            }
        }

        return Check.That(
            $"duplicates only among the in-flight jobs of the killed worker(s) {string.Join(", ", victims)}",
            unexplained.Count == 0,
            m.Tally.DuplicatedIds.Count == 0
                ? "no line appears twice"
                : unexplained.Count == 0
                    ? $"{m.Tally.DuplicatedIds.Count} executed twice (ids {Ids([.. m.Tally.DuplicatedIds.Keys])}), each with a crash record from a killed worker"
                    : $"executed twice without a crash record of a killed worker: ids {Ids(unexplained)}");
    }

    public static string Ids(IReadOnlyList<long> ids) =>
        string.Join(", ", ids.Take(10)) + (ids.Count > 10 ? $" … ({ids.Count} in all)" : "");

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " s";
}
