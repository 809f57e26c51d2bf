using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace Bulwark.Packaging.Tests;

public sealed class SampleAppTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "bulwark-sample-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public SampleAppTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task The_sample_on_SQLite_commits_the_order_row_and_its_job_in_one_transaction_and_its_handler_completes_it()
    {
        await using var sample = await SampleProcess.StartAsync(_dir, "--store", Path.Combine(_dir, "sample.db"));

        var response = await _http.PostAsJsonAsync($"{sample.Url}/orders", new { email = "ada@example.com", item = "book" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var jobId = body.GetProperty("jobId").GetInt64();
        var orderId = body.GetProperty("orderId").GetInt64();

        var job = await WaitForCompletionAsync(sample, jobId);
        Assert.Contains("ada@example.com", job.GetProperty("result").GetString(), StringComparison.Ordinal);
        Assert.Contains($"Sent 'Order {orderId}: book' to ada@example.com (order {orderId})", sample.Output, StringComparison.Ordinal);

        var health = await _http.GetAsync($"{sample.Url}/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_sample_refuses_an_order_without_an_email_and_enqueues_nothing()
    {
        await using var sample = await SampleProcess.StartAsync(_dir, "--store", Path.Combine(_dir, "sample.db"));

        var response = await _http.PostAsJsonAsync($"{sample.Url}/orders", new { item = "book" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("email and item are required", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"{sample.Url}/jobs/1")).StatusCode);
    }

    [Fact]
    public async Task The_sample_on_PostgreSQL_commits_the_order_row_and_its_job_in_one_transaction()
    {
        var connection = Environment.GetEnvironmentVariable("BULWARK_TEST_POSTGRES");
        Assert.False(string.IsNullOrWhiteSpace(connection),
            "BULWARK_TEST_POSTGRES is not set: run ./test.sh (it starts a throwaway PostgreSQL), or eval \"$(scripts/postgres.sh env)\" after scripts/postgres.sh start.");
        var schema = "sample_" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await using var sample = await SampleProcess.StartAsync(_dir, "--store", connection!, "--schema", schema);

            var response = await _http.PostAsJsonAsync($"{sample.Url}/orders", new { email = "grace@example.com", item = "compiler" });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            var orderId = body.GetProperty("orderId").GetInt64();
            var jobId = body.GetProperty("jobId").GetInt64();

            await WaitForCompletionAsync(sample, jobId);
            Assert.Contains($"Sent 'Order {orderId}: compiler' to grace@example.com (order {orderId})", sample.Output, StringComparison.Ordinal);

            await using var db = new NpgsqlConnection(connection);
            await db.OpenAsync();
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {schema}.sample_orders WHERE id = @id AND email = 'grace@example.com'", db);
            count.Parameters.AddWithValue("id", orderId);
            Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            await using var db = new NpgsqlConnection(connection);
            await db.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", db);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private async Task<JsonElement> WaitForCompletionAsync(SampleProcess sample, long jobId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var job = await _http.GetFromJsonAsync<JsonElement>($"{sample.Url}/jobs/{jobId}");
            last = job.ToString();
            if (job.GetProperty("state").GetString() == "completed")
            {
                return job;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Job {jobId} did not complete within 60 s; last seen {last}. Sample output:{Environment.NewLine}{sample.Output}");
        return default;
    }
}
