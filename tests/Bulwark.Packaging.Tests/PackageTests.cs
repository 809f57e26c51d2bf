namespace Bulwark.Packaging.Tests;

public sealed class PackageTests(PackedArtifacts artifacts) : IClassFixture<PackedArtifacts>
{
    private static readonly string[] Libraries = ["Bulwark", "Bulwark.Sqlite", "Bulwark.Postgres", "Bulwark.Server", "Bulwark.Testing", "Bulwark.EntityFrameworkCore"];

    [Fact]
    public void Packing_produces_exactly_the_six_libraries_and_the_tool_at_the_one_version()
    {
        var version = Repository.Version;
        var packages = Directory.GetFiles(artifacts.Packages, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        string[] expected = [.. Libraries.Append("Bulwark.Cli").Select(id => $"{id}.{version}.nupkg").Order(StringComparer.Ordinal)];
        Assert.Equal(expected, packages);
    }

    [Fact]
    public void Every_package_carries_its_metadata_readme_license_and_a_symbol_package()
    {
        var version = Repository.Version;
        foreach (var id in Libraries.Append("Bulwark.Cli"))
        {
            var file = Path.Combine(artifacts.Packages, $"{id}.{version}.nupkg");
            var (metadata, entries) = PackedArtifacts.Read(file);
            string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

            Assert.Equal(id, Field("id"));
            Assert.Equal(version, Field("version"));
            Assert.False(string.IsNullOrWhiteSpace(Field("description")), $"{id} has no description.");
            Assert.False(string.IsNullOrWhiteSpace(Field("authors")), $"{id} has no authors.");
            Assert.Equal("MIT", Field("license"));
            Assert.Equal("README.md", Field("readme"));
            Assert.StartsWith("https://", Field("projectUrl"), StringComparison.Ordinal);
            Assert.Contains(metadata.Elements(), e => e.Name.LocalName == "repository" && e.Attribute("url")?.Value.StartsWith("https://", StringComparison.Ordinal) == true);
            Assert.Contains("README.md", entries);
            // The package's own README (src/<project>/PACKAGE.md), not the repository's, which opens with ./test.sh.
            Assert.StartsWith($"# {id}\n", PackedArtifacts.ReadEntry(file, "README.md").ReplaceLineEndings("\n"), StringComparison.Ordinal);
            Assert.Contains("LICENSE", entries);
            Assert.True(File.Exists(Path.Combine(artifacts.Packages, $"{id}.{version}.snupkg")), $"{id} has no .snupkg symbol package.");
        }
    }

    [Fact]
    public void Library_packages_depend_on_each_other_at_the_same_version()
    {
        var version = Repository.Version;
        Assert.Contains("lib/net10.0/Bulwark.xml", PackedArtifacts.Read(Path.Combine(artifacts.Packages, $"Bulwark.{version}.nupkg")).Entries);
        foreach (var id in Libraries.Where(l => l != "Bulwark"))
        {
            var (metadata, entries) = PackedArtifacts.Read(Path.Combine(artifacts.Packages, $"{id}.{version}.nupkg"));
            var core = metadata.Descendants().Single(e => e.Name.LocalName == "dependency" && e.Attribute("id")?.Value == "Bulwark");
            Assert.Equal(version, core.Attribute("version")?.Value);
            Assert.Contains($"lib/net10.0/{id}.dll", entries);
            Assert.Contains($"lib/net10.0/{id}.xml", entries); // IntelliSense
        }
    }

    [Fact]
    public async Task The_packed_tool_installs_offline_and_bulwark_help_runs()
    {
        var tools = Path.Combine(artifacts.Folder, "tools");
        // Only the packed folder as a source: the tool bundles its dependencies, so nothing is fetched.
        var config = Path.Combine(artifacts.Folder, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="bulwark-artifacts" value="{artifacts.Packages}" />
              </packageSources>
            </configuration>
            """);
        var install = await ExternalProcess.RunAsync("dotnet",
            ["tool", "install", "--tool-path", tools, "--configfile", config, "Bulwark.Cli", "--version", Repository.Version],
            TimeSpan.FromMinutes(2), workingDirectory: artifacts.Folder);
        Assert.True(install.ExitCode == 0, $"dotnet tool install failed:{Environment.NewLine}{install.Output}");

        var help = await ExternalProcess.RunAsync(Path.Combine(tools, "bulwark"), ["--help"], TimeSpan.FromMinutes(1), workingDirectory: artifacts.Folder);
        Assert.True(help.ExitCode == 0, $"bulwark --help exited {help.ExitCode}:{Environment.NewLine}{help.Output}");
        foreach (var command in new[] { "serve", "worker", "enqueue", "jobs", "queues", "dlq" })
        {
            Assert.Contains(command, help.Output, StringComparison.Ordinal);
        }
    }
}
