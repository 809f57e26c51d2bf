using System.IO.Compression;
using System.Xml.Linq;

namespace Bulwark.Packaging.Tests;

/// <summary>
/// Packs the solution once for the packaging tests (<c>dotnet pack --no-build</c> over this build's outputs, so it takes
/// seconds) into a temporary folder, removed afterwards.
/// </summary>
public sealed class PackedArtifacts : IAsyncLifetime
{
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "bulwark-pack-" + Guid.NewGuid().ToString("N")[..8]);

    public string Packages => Path.Combine(Folder, "packages");

    public string PackOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Packages);
        var pack = await ExternalProcess.RunAsync("dotnet",
            ["pack", Repository.PathOf("Bulwark.slnx"), "-c", Repository.Configuration, "--no-build", "--nologo", "-v", "q", "-o", Packages],
            TimeSpan.FromMinutes(4));
        PackOutput = pack.Output;
        Assert.True(pack.ExitCode == 0, $"dotnet pack failed (exit {pack.ExitCode}):{Environment.NewLine}{pack.Output}");
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A tool still mapped on some file systems; the temp folder is swept by the OS.
        }

        return Task.CompletedTask;
    }

    /// <summary>The text of one entry of a package.</summary>
    public static string ReadEntry(string file, string entry)
    {
        using var zip = ZipFile.OpenRead(file);
        using var reader = new StreamReader(zip.GetEntry(entry)!.Open());
        return reader.ReadToEnd();
    }

    /// <summary>The nuspec of <paramref name="file"/>, and its entry names.</summary>
    public static (XElement Metadata, IReadOnlyList<string> Entries) Read(string file)
    {
        using var zip = ZipFile.OpenRead(file);
        var entries = zip.Entries.Select(e => e.FullName).ToArray();
        var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/', StringComparison.Ordinal));
        using var stream = nuspec.Open();
        var document = XDocument.Load(stream);
        var metadata = document.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        return (metadata, entries);
    }
}
