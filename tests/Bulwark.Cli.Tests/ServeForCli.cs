using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bulwark.Cli.Tests;

/// <summary>A real <c>bulwark serve --workers 0</c> on a free loopback port over the test's store file, for the CLI's HTTP backend.</summary>
internal sealed class ServeForCli : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    private ServeForCli(Process process, string url)
    {
        _process = process;
        Url = url;
    }

    public string Url { get; }

    public string Output { get { lock (_gate) { return _output.ToString(); } } }

    public static async Task<ServeForCli> StartAsync(CliRunner cli, IReadOnlyDictionary<string, string>? environment = null)
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = cli.Directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { CliRunner.CliDll, "serve", "--urls", url, "--store", cli.StorePath, "--workers", "0" })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var serve = new ServeForCli(Process.Start(start)!, url);
        serve._process.OutputDataReceived += (_, e) => serve.Append(e.Data);
        serve._process.ErrorDataReceived += (_, e) => serve.Append(e.Data);
        serve._process.BeginOutputReadLine();
        serve._process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var ready = await http.GetAsync(url + "/health/ready");
                if (ready.IsSuccessStatusCode)
                {
                    return serve;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but not answering within 5 s (a loaded machine, the first request still compiling): ask again until the deadline.
            }

            if (serve._process.HasExited || DateTime.UtcNow > deadline)
            {
                var output = serve.Output;
                await serve.DisposeAsync();
                throw new InvalidOperationException($"bulwark serve did not become ready:\n{output}");
            }

            await Task.Delay(100);
        }
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
