using System.Text;

namespace Bulwark.Cli.Commands;

/// <summary>A plain, left-aligned text table for terminal output.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public void Add(params string?[] cells) => _rows.Add(cells.Select(c => Clean(c ?? "-")).ToArray());

    public void Print(TextWriter output)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        output.WriteLine(Line(headers, widths));
        foreach (var row in _rows)
        {
            output.WriteLine(Line(row, widths));
        }
    }

    private static string Line(string[] cells, int[] widths)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < widths.Length; i++)
        {
            var cell = i < cells.Length ? cells[i] : "";
            sb.Append(i == widths.Length - 1 ? cell : cell.PadRight(widths[i] + 2));
        }

        return sb.ToString().TrimEnd();
    }

    // One row per line, whatever the data holds.
    private static string Clean(string cell) => cell.ReplaceLineEndings(" ").Replace('\t', ' ');
}
