using System.Diagnostics;
using System.Text;

namespace Bulwark.Worker.Tests;

/// <summary>A real <c>bulwark worker</c> process (<c>dotnet Bulwark.Cli.dll worker …</c>) with its output captured.</summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WorkerProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

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

    public static WorkerProcess Start(string storePath, string name, params string[] extra)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { CliPath(), "worker", "--store", storePath, "--name", name }.Concat(extra))
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Sends a signal by name (TERM, STOP, CONT) with the system's kill command.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>SIGKILL: no chance to clean up.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: false);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"worker {Pid} did not exit within {timeout}. Output:\n{Output}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static string CliPath()
    {
        // tests/Bulwark.Worker.Tests/bin/<Configuration>/net10.0/ → src/Bulwark.Cli/bin/<Configuration>/net10.0/Bulwark.Cli.dll
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = here.Parent!.Name;
        var root = here;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Bulwark.slnx")))
        {
            root = root.Parent;
        }

        var path = Path.Combine(root?.FullName ?? throw new InvalidOperationException("Bulwark.slnx not found above " + here.FullName), "src", "Bulwark.Cli", "bin", configuration, "net10.0", "Bulwark.Cli.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build src/Bulwark.Cli first (the test project references it).", path);
    }
}
