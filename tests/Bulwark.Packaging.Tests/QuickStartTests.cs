using System.Net.Http.Json;
using System.Text.Json;

namespace Bulwark.Packaging.Tests;

/// <summary>
/// The README's quick start is a real, compiled sample (samples/Bulwark.QuickStart), and it works for a new user: packed
/// into a local feed, added to a fresh <c>dotnet new web</c> app, built from the packages alone and run, it takes a job
/// from enqueue to completed.
/// </summary>
public sealed class QuickStartTests
{
    private static string SampleProgram => File.ReadAllText(Repository.PathOf("samples", "Bulwark.QuickStart", "Program.cs")).ReplaceLineEndings("\n");

    [Fact]
    public void The_readme_quick_start_is_the_compiled_sample_word_for_word()
    {
        var readme = File.ReadAllText(Repository.PathOf("README.md")).ReplaceLineEndings("\n");
        const string Begin = "<!-- quickstart:begin -->\n```csharp\n";
        const string End = "```\n<!-- quickstart:end -->";
        var start = readme.IndexOf(Begin, StringComparison.Ordinal);
        var end = readme.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md has no quickstart:begin / quickstart:end block.");

        Assert.Equal(SampleProgram, readme[(start + Begin.Length)..end]);
        // Built with the solution: its output exists, so the snippet compiles with every namespace it needs.
        Assert.True(File.Exists(Repository.PathOf("samples", "Bulwark.QuickStart", "bin", Repository.Configuration, "net10.0", "Bulwark.QuickStart.dll")));
    }

    [Fact]
    public async Task A_fresh_web_app_with_the_packed_packages_runs_the_quick_start_job_end_to_end()
    {
        var root = Path.Combine(Path.GetTempPath(), "bulwark-quickstart-" + Guid.NewGuid().ToString("N")[..8]);
        var feed = Path.Combine(root, "feed");
        var app = Path.Combine(root, "MyApp");
        // A version no earlier run can have left in a NuGet cache, so the app gets exactly these packages.
        var version = $"{Repository.Version}-e2e.{Guid.NewGuid():N}"[..(Repository.Version.Length + 13)];
        Directory.CreateDirectory(feed);
        try
        {
            await RunAsync("dotnet", ["pack", Repository.PathOf("Bulwark.slnx"), "-c", Repository.Configuration, "--no-build", "--nologo", "-v", "q", "-o", feed, $"-p:PackageVersion={version}"], Repository.Root, 4);
            await RunAsync("dotnet", ["new", "web", "-o", app, "-n", "MyApp"], root, 2);
            // Packages restore into a folder of this test's own, finding everything else in the machine's NuGet cache.
            var machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env ? env
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config><add key="globalPackagesFolder" value="{Path.Combine(root, "packages")}" /></config>
                  <fallbackPackageFolders><add key="machine" value="{machineCache}" /></fallbackPackageFolders>
                  <packageSources><add key="bulwark-local" value="{feed}" /></packageSources>
                </configuration>
                """);
            foreach (var package in new[] { "Bulwark.Sqlite", "Bulwark.Server" })
            {
                await RunAsync("dotnet", ["add", "package", package, "--version", version], app, 3);
            }

            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), SampleProgram);
            await RunAsync("dotnet", ["build", "-c", "Release", "--nologo", "-v", "q"], app, 5);

            await using var process = await SampleProcess.StartDllAsync(Path.Combine(app, "bin", "Release", "net10.0", "MyApp.dll"), app);
            using var http = new HttpClient { BaseAddress = new Uri(process.Url) };
            using var signup = await http.PostAsync("/signup?email=ada@example.com", null);
            Assert.True(signup.StatusCode == System.Net.HttpStatusCode.Accepted, $"POST /signup answered {(int)signup.StatusCode}: {await signup.Content.ReadAsStringAsync()}");
            var id = (await signup.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetInt64();

            var deadline = DateTime.UtcNow.AddSeconds(60);
            JsonElement job;
            do
            {
                job = await http.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}");
                if (job.GetProperty("state").GetString() == "completed")
                {
                    break;
                }

                await Task.Delay(100);
            }
            while (DateTime.UtcNow < deadline);

            Assert.True(job.GetProperty("state").GetString() == "completed", $"Job {id} is {job}; app output:{Environment.NewLine}{process.Output}");
            Assert.Equal("welcome.send", job.GetProperty("type").GetString());
            Assert.Equal("email", job.GetProperty("queue").GetString());
            Assert.Contains("Welcome mail to ada@example.com", process.Output, StringComparison.Ordinal);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Left to the OS's temp sweep.
            }
        }
    }

    private static async Task RunAsync(string file, string[] arguments, string directory, int minutes)
    {
        var run = await ExternalProcess.RunAsync(file, arguments, TimeSpan.FromMinutes(minutes), directory);
        Assert.True(run.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited {run.ExitCode}:{Environment.NewLine}{run.Output}");
    }
}
