using System.Diagnostics;
using System.Text;

namespace Bulwark.Packaging.Tests;

/// <summary>A web app (the sample, or one built from packages) as a real process on a free loopback port (Kestrel picks it; read from its start-up log).</summary>
internal sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SampleProcess(Process process) => _process = process;

    public string Url { get; private set; } = "";

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static Task<SampleProcess> StartAsync(string workingDirectory, params string[] arguments)
    {
        var bin = Repository.PathOf("samples", "Bulwark.Sample.Web", "bin", Repository.Configuration, "net10.0");
        return StartDllAsync(Path.Combine(bin, "Bulwark.Sample.Web.dll"), workingDirectory, arguments);
    }

    /// <summary>Starts the app <paramref name="dll"/> (its folder is the content root) in <paramref name="workingDirectory"/>.</summary>
    public static async Task<SampleProcess> StartDllAsync(string dll, string workingDirectory, params string[] arguments)
    {
        var bin = Path.GetDirectoryName(dll)!;
        Assert.True(File.Exists(dll), $"{dll} is missing; build the solution first (./test.sh does).");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in new[] { dll, "--contentRoot", bin, "--urls", "http://127.0.0.1:0" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var sample = new SampleProcess(Process.Start(start) ?? throw new InvalidOperationException("Could not start the sample."));
        sample._process.OutputDataReceived += (_, e) => sample.Line(e.Data);
        sample._process.ErrorDataReceived += (_, e) => sample.Line(e.Data);
        sample._process.BeginOutputReadLine();
        sample._process.BeginErrorReadLine();
        sample._process.EnableRaisingEvents = true;
        sample._process.Exited += (_, _) => sample._listening.TrySetException(new InvalidOperationException($"{Path.GetFileName(dll)} exited before listening."));

        var started = await Task.WhenAny(sample._listening.Task, Task.Delay(TimeSpan.FromSeconds(90)));
        if (started != sample._listening.Task || !sample._listening.Task.IsCompletedSuccessfully)
        {
            var output = sample.Output;
            await sample.DisposeAsync();
            Assert.Fail($"{Path.GetFileName(dll)} did not start listening. Its output:{Environment.NewLine}{output}");
        }

        sample.Url = await sample._listening.Task;
        return sample;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Line(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        const string marker = "Now listening on: ";
        var at = line.IndexOf(marker, StringComparison.Ordinal);
        if (at >= 0)
        {
            _listening.TrySetResult(line[(at + marker.Length)..].Trim());
        }
    }
}
