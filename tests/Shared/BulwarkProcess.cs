using System.Diagnostics;
using System.Text;

namespace Bulwark.TestProcesses;

/// <summary>A real <c>bulwark</c> process (<c>dotnet Bulwark.Cli.dll …</c>) with its output captured.</summary>
internal sealed class BulwarkProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private BulwarkProcess(Process process) => _process = process;

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

    public static BulwarkProcess Start(params string[] args) => Start(null, null, args);

    /// <summary>Starts with extra environment variables (e.g. <c>Bulwark__Worker__Concurrency</c>) in a working directory of its own.</summary>
    public static BulwarkProcess Start(IReadOnlyDictionary<string, string>? environment, string? workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        info.ArgumentList.Add(CliPath());
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var started = new BulwarkProcess(process);
        process.OutputDataReceived += (_, e) => started.Append(e.Data);
        process.ErrorDataReceived += (_, e) => started.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Runs a short command to its end and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, params string[] args)
    {
        await using var process = Start(args);
        var code = await process.WaitForExitAsync(timeout);
        return (code, process.Output);
    }

    /// <summary>Waits until a line matching <paramref name="match"/> appears in the output, and returns it.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        string? found = null;
        await Poll.UntilAsync(
            () =>
            {
                found = Output.Split('\n').FirstOrDefault(match);
                return Task.FromResult(found is not null || HasExited);
            },
            timeout,
            () => $"process {Pid} printed no such line. Output:\n{Output}");
        return found ?? throw new InvalidOperationException($"process {Pid} exited before printing the line. Output:\n{Output}");
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
            throw new TimeoutException($"bulwark process {Pid} did not exit within {timeout}. Output:\n{Output}");
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
        // tests/<project>/bin/<Configuration>/net10.0/ → src/Bulwark.Cli/bin/<Configuration>/net10.0/Bulwark.Cli.dll
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
