using System.Globalization;

namespace Bulwark.Cli.Bench;

/// <summary>The one-minute load average (Linux <c>/proc/loadavg</c>), recorded beside each figure: the machine is shared.</summary>
internal static class LoadAverages
{
    public static double Current()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }
}
