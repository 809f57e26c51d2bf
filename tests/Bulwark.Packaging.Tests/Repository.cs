using System.Reflection;

namespace Bulwark.Packaging.Tests;

/// <summary>Where the repository and this build's outputs are.</summary>
internal static class Repository
{
    public static string Root { get; } = Metadata("RepositoryRoot");

    public static string Configuration { get; } = Metadata("BuildConfiguration");

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The one version of every package, from Directory.Build.props.</summary>
    public static string Version
    {
        get
        {
            var props = File.ReadAllText(PathOf("Directory.Build.props"));
            var match = System.Text.RegularExpressions.Regex.Match(props, "<Version>([^<]+)</Version>");
            Assert.True(match.Success, "Directory.Build.props has no <Version>.");
            return match.Groups[1].Value;
        }
    }

    private static string Metadata(string key) =>
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
