using System.Diagnostics;
using System.Net;
using System.Text;
using Bulwark.Diagnostics;
using Bulwark.Hosting;

namespace Bulwark.Server.Tests;

[Collection(MetricsCollection.Name)]
public sealed class TracingTests : IAsyncLifetime
{
    private const string Queue = "trace-probe";
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(bulwark: b => b.AddDemoHandlers().AddWorker(w => w.Queues(Queue).Concurrency(1)));

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task The_job_span_continues_the_producers_trace_sent_in_the_traceparent_header()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var parent = $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01";
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (spans)
                {
                    spans.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = new StringContent($$"""{"queue":"{{Queue}}","type":"demo.noop"}""", Encoding.UTF8, "application/json") };
        request.Headers.Add("traceparent", parent);
        using var response = await _app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            lock (spans)
            {
                if (spans.Any(s => s.TraceId == traceId))
                {
                    break;
                }
            }

            await Task.Delay(50);
        }

        lock (spans)
        {
            Assert.Contains(spans, s => s.TraceId == traceId);
        }
    }
}
