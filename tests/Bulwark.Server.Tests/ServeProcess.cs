using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace Bulwark.Server.Tests;

/// <summary>A real <c>bulwark serve</c> process on a free loopback port and a temp store of its own.</summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    private ServeProcess(Process process, string folder, string url)
    {
        _process = process;
        Folder = folder;
        Url = url;
        Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Folder { get; }

    public string Url { get; }

    public HttpClient Http { get; }

    public string Output { get { lock (_gate) { return _output.ToString(); } } }

    public static string CliDll { get; } = typeof(ServeProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BulwarkCliDll").Value!;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static Process Start(string folder, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    public static async Task<ServeProcess> StartAsync(IReadOnlyDictionary<string, string>? environment = null, params string[] extraArgs)
    {
        var folder = Directory.CreateTempSubdirectory("bulwark-serve-").FullName;
        var url = $"http://127.0.0.1:{FreePort()}";
        var process = Start(folder, environment, ["serve", "--urls", url, "--store", Path.Combine(folder, "serve.db"), .. extraArgs]);
        var serve = new ServeProcess(process, folder, url);
        process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        // The banner's last line: by then the whole banner has been read.
        while (!serve.Output.Contains("SIGTERM drains", StringComparison.Ordinal))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var output = serve.Output;
                await serve.DisposeAsync();
                throw new InvalidOperationException($"bulwark serve did not start (exited: {process.HasExited}):\n{output}");
            }

            await Task.Delay(50);
        }

        return serve;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying child: the temp folder is cleaned by the OS later.
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_gate)
            {
                _output.AppendLine(line);
            }
        }
    }
}
