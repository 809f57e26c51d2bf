using System.Text;
using System.Text.Json;
using Bulwark.TestProcesses;

namespace Bulwark.Cli.Tests;

/// <summary>
/// The runbooks' topology on the embedded store: <c>bulwark serve --workers 0</c> takes the enqueues and a separate
/// <c>bulwark worker</c> runs them. The worker polls only every two minutes here, so each job that starts sooner was
/// started by the store's cross-process wake-up (the doorbell beside the database file).
/// </summary>
public sealed class CrossProcessWakeUpTests
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    // Far below the worker's two-minute poll.
    private static readonly TimeSpan PickupDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Jobs_enqueued_through_the_server_start_on_a_separate_worker_without_waiting_for_its_poll()
    {
        using var cli = new CliRunner();
        await using var serve = await ServeForCli.StartAsync(cli);
        using var http = new HttpClient { BaseAddress = new Uri(serve.Url + "/api/v1/"), Timeout = TimeSpan.FromSeconds(30) };
        await using var worker = BulwarkProcess.Start(new Dictionary<string, string>(), cli.Directory, "worker", "--store", cli.StorePath, "--name", "bell", "--poll", "2m");
        await worker.WaitForLineAsync(l => l.Contains("registered: name bell", StringComparison.Ordinal), StartDeadline);

        for (var i = 0; i < 3; i++)
        {
            using var response = await http.PostAsync("jobs", new StringContent("""{"type":"demo.noop"}""", Encoding.UTF8, "application/json"));
            var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
            await Poll.UntilAsync(
                async () => JsonDocument.Parse(await http.GetStringAsync($"jobs/{id}")).RootElement.GetProperty("state").GetString() == "completed",
                PickupDeadline,
                () => $"job {id} waited for the worker's poll; worker output:\n{worker.Output}");
        }
    }
}
