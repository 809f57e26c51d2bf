using System.Text.Json;
using Bulwark.Server.Api;
using Bulwark.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Bulwark.Server.Tests;

public sealed class ApiErrorFilterTests
{
    [Fact]
    public async Task A_write_whose_commit_outcome_is_unknown_answers_503_saying_it_may_be_stored()
    {
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        http.Response.Body = new MemoryStream();
        var filter = new ApiErrorFilter(NullLogger<ApiErrorFilter>.Instance);

        var result = await filter.InvokeAsync(new DefaultEndpointFilterInvocationContext(http),
            _ => throw new StoreOutcomeUnknownException("The connection broke during COMMIT; it may or may not be stored."));
        await Assert.IsAssignableFrom<IResult>(result).ExecuteAsync(http);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
        Assert.True(http.Response.Headers.ContainsKey("Retry-After"));
        http.Response.Body.Position = 0;
        using var problem = await JsonDocument.ParseAsync(http.Response.Body);
        Assert.Equal("Store outcome unknown", problem.RootElement.GetProperty("title").GetString());
        Assert.Contains("may or may not be stored", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
