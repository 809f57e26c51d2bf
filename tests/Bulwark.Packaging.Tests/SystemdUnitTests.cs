using System.Text.RegularExpressions;

namespace Bulwark.Packaging.Tests;

public sealed partial class SystemdUnitTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "bulwark-units-" + Guid.NewGuid().ToString("N")[..8]);

    public SystemdUnitTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Units_pass_systemd_analyze_verify_or_a_structural_check()
    {
        // The units point at /opt/bulwark/bulwark; verify checks the executable exists, so point it at a stand-in.
        var fake = Path.Combine(_dir, "bulwark");
        await File.WriteAllTextAsync(fake, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        foreach (var unit in new[] { "bulwark-server.service", "bulwark-worker@.service", "bulwark-app-worker@.service" })
        {
            var text = await File.ReadAllTextAsync(Repository.PathOf("deploy", "systemd", unit));
            await File.WriteAllTextAsync(Path.Combine(_dir, unit), text.Replace("/opt/bulwark/bulwark", fake, StringComparison.Ordinal));
        }

        var analyze = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists);
        if (analyze is not null)
        {
            var verify = await ExternalProcess.RunAsync(analyze, ["verify", "./bulwark-server.service", "./bulwark-worker@9101.service"], TimeSpan.FromMinutes(1), workingDirectory: _dir);
            Assert.True(verify.ExitCode == 0 && verify.Output.Trim().Length == 0, $"systemd-analyze verify complained (exit {verify.ExitCode}):{Environment.NewLine}{verify.Output}");
        }

        foreach (var unit in Directory.GetFiles(_dir, "*.service"))
        {
            var sections = Parse(await File.ReadAllLinesAsync(unit));
            Assert.Equal(["Install", "Service", "Unit"], sections.Keys.Order(StringComparer.Ordinal));
            Assert.Contains("ExecStart", sections["Service"].Keys);
            Assert.Contains("Description", sections["Unit"].Keys);
            Assert.Contains("WantedBy", sections["Install"].Keys);
        }
    }

    [Theory]
    [InlineData("bulwark-server.service", 45)] // serve's host shutdown timeout
    [InlineData("bulwark-worker@.service", 0)]
    [InlineData("bulwark-app-worker@.service", 45)] // AddWorker's host timeout: 30 s drain + 5 s grace + 10 s

    public async Task Units_stop_with_SIGTERM_and_wait_longer_than_the_drain(string unit, int hostShutdownSeconds)
    {
        var lines = await File.ReadAllLinesAsync(Repository.PathOf("deploy", "systemd", unit));
        var service = Parse(lines)["Service"];
        Assert.Equal("SIGTERM", service["KillSignal"]);
        Assert.Contains(service["Restart"], new[] { "always", "on-failure" });
        var stop = int.Parse(service["TimeoutStopSec"], System.Globalization.CultureInfo.InvariantCulture);
        var drain = hostShutdownSeconds;
        if (DrainFlag().Match(service["ExecStart"]) is { Success: true } flag)
        {
            // The worker waits --shutdown-timeout for running jobs, then the abandon grace period (5 s) for handlers ignoring cancellation.
            drain = Math.Max(drain, int.Parse(flag.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 5);
        }

        // Or set as the library reads it, in the unit's environment (Environment=Bulwark__Worker__ShutdownTimeout=30s).
        foreach (var line in lines)
        {
            if (System.Text.RegularExpressions.Regex.Match(line, @"^Environment=Bulwark__Worker__ShutdownTimeout=(\d+)s$") is { Success: true } env)
            {
                drain = Math.Max(drain, int.Parse(env.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 5);
            }
        }

        Assert.True(drain > 0, $"{unit}: the drain time is unknown; set Environment=Bulwark__Worker__ShutdownTimeout=…s or pass --shutdown-timeout in ExecStart.");
        Assert.True(stop > drain, $"{unit}: TimeoutStopSec={stop} must exceed the drain ({drain} s), or systemd kills a draining worker.");
    }

    [Fact]
    public async Task The_server_unit_runs_no_jobs_and_the_app_worker_unit_runs_the_users_own_app()
    {
        var server = Parse(await File.ReadAllLinesAsync(Repository.PathOf("deploy", "systemd", "bulwark-server.service")))["Service"];
        var app = Parse(await File.ReadAllLinesAsync(Repository.PathOf("deploy", "systemd", "bulwark-app-worker@.service")))["Service"];

        // Demo workers on the server would take an app's jobs from "default" and fail them (no such handler).
        Assert.Contains("serve --workers 0", server["ExecStart"], StringComparison.Ordinal);
        Assert.Equal("/opt/%i/%i", app["ExecStart"]);
        Assert.Equal("-/etc/bulwark/%i.env", app["EnvironmentFile"]);
    }

    private static Dictionary<string, Dictionary<string, string>> Parse(IEnumerable<string> lines)
    {
        var sections = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        Dictionary<string, string>? current = null;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith(';'))
            {
                continue;
            }

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                current = sections[line[1..^1]] = new Dictionary<string, string>(StringComparer.Ordinal);
                continue;
            }

            Assert.True(current is not null, $"'{line}' comes before any [Section].");
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(eq > 0, $"'{line}' is not Key=Value.");
            current![line[..eq]] = line[(eq + 1)..];
        }

        return sections;
    }

    [GeneratedRegex(@"--shutdown-timeout (\d+)s")]
    private static partial Regex DrainFlag();
}
