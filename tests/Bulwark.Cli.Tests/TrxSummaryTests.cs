using System.Diagnostics;

namespace Bulwark.Cli.Tests;

/// <summary>test.sh prints its last line with scripts/trx-summary.sh; these run that script on hand-made TRX files.</summary>
public sealed class TrxSummaryTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("bulwark-trx-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Counters_of_several_files_are_summed_into_one_line()
    {
        var a = Trx("a.trx", """<Counters total="6" executed="5" passed="4" failed="1" error="0" timeout="0" aborted="0" inconclusive="0" passedButRunAborted="0" notRunnable="0" notExecuted="1" disconnected="0" warning="0" completed="0" inProgress="0" pending="0" />""");
        // Attribute order differs and the element spans lines: the script must not depend on either.
        var b = Trx("b.trx", "<Counters notExecuted=\"2\" passed=\"10\"\n  failed=\"0\" error=\"1\" total=\"13\" executed=\"11\" />");

        var (code, stdout, stderr) = await RunAsync(a, b);

        Assert.True(code == 0, stderr);
        Assert.Equal("14 passed, 2 failed, 3 skipped", stdout.Trim());
    }

    [Fact]
    public async Task A_file_without_counters_is_reported_and_fails_the_summary()
    {
        var good = Trx("good.trx", """<Counters total="2" executed="2" passed="2" failed="0" notExecuted="0" />""");
        var broken = Trx("broken.trx", "<TestRun></TestRun>");

        var (code, stdout, stderr) = await RunAsync(good, broken);

        Assert.Equal(1, code);
        Assert.Contains("broken.trx", stderr, StringComparison.Ordinal);
        Assert.Equal("2 passed, 0 failed, 0 skipped", stdout.Trim());
    }

    private string Trx(string name, string counters)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun id="00000000-0000-0000-0000-000000000000" name="run" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <ResultSummary outcome="Completed">
                {counters}
              </ResultSummary>
            </TestRun>
            """);
        return path;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] files)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(CliRunner.RepositoryRoot, "scripts", "trx-summary.sh"));
        foreach (var file in files)
        {
            start.ArgumentList.Add(file);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
