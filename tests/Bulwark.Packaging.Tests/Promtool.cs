namespace Bulwark.Packaging.Tests;

/// <summary>Finds promtool (Debian package <c>prometheus</c>, which ./test.sh installs) or fails saying how to get it.</summary>
internal static class Promtool
{
    public static string Path()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => System.IO.Path.Combine(dir, "promtool"))
            .FirstOrDefault(File.Exists);
        Assert.True(found is not null,
            "promtool was not found on PATH. Install it (Debian/Ubuntu: apt-get install prometheus; ./test.sh does this when run as root) and run the tests again.");
        return found!;
    }
}
