using System.Text.RegularExpressions;
using Bulwark.Jobs;

namespace Bulwark.Tests.Jobs;

public sealed partial class StateMachineDocTests
{
    [GeneratedRegex(@"^\s*(\w+)\s*-->\s*(\w+)\s*:\s*(\w+)\s*$")]
    private static partial Regex EdgeLine();

    [Fact]
    public void The_diagram_in_docs_lists_exactly_the_transition_table()
    {
        var documented = ReadEdges();

        var table = JobTransitions.All.Select(t => (t.From.ToString(), t.To.ToString(), t.Trigger.ToString())).ToList();
        var missing = table.Except(documented).ToList();
        var extra = documented.Except(table).ToList();

        Assert.True(missing.Count == 0, "docs/state-machine.md lacks: " + string.Join("; ", missing));
        Assert.True(extra.Count == 0, "docs/state-machine.md has edges the table does not: " + string.Join("; ", extra));
        Assert.Equal(documented.Count, documented.Distinct().Count());
    }

    [Fact]
    public void The_doc_explains_every_trigger()
    {
        var text = File.ReadAllText(DocPath());

        Assert.All(Enum.GetValues<JobTrigger>(), trigger => Assert.Contains($"| `{trigger}` |", text, StringComparison.Ordinal));
    }

    private static List<(string From, string To, string Trigger)> ReadEdges()
    {
        var lines = File.ReadAllLines(DocPath());
        var start = Array.FindIndex(lines, l => l.Trim() == "stateDiagram-v2");
        Assert.True(start >= 0, "docs/state-machine.md has no stateDiagram-v2 block");
        var edges = new List<(string, string, string)>();
        for (var i = start + 1; i < lines.Length && lines[i].Trim() != "```"; i++)
        {
            // [*] lines show how jobs are born; they are not transitions of the table.
            if (EdgeLine().Match(lines[i]) is { Success: true } m)
            {
                edges.Add((m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value));
            }
        }

        return edges;
    }

    private static string DocPath()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Bulwark.slnx")))
        {
            dir = dir.Parent;
        }

        Assert.True(dir is not null, "could not find the repository root (the folder holding Bulwark.slnx) above " + AppContext.BaseDirectory);
        return Path.Combine(dir!.FullName, "docs", "state-machine.md");
    }
}
