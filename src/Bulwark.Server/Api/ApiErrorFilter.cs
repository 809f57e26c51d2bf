using System.Data.Common;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Api;

/// <summary>
/// Turns every refusal into <c>application/problem+json</c>: bad input 400 (413 when too large), a conflict with another job
/// 409 naming it, circuit open 503 with
/// <c>Retry-After</c>, a failing store 503. Only exceptions that are neither input nor storage errors become 500.
/// </summary>
internal sealed class ApiErrorFilter(ILogger<ApiErrorFilter> logger) : IEndpointFilter
{
    private static readonly TimeSpan StoreRetryAfter = TimeSpan.FromSeconds(5);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            return await next(context);
        }
        catch (ApiProblemException ex)
        {
            return ApiProblems.Create(http, ex.Status, ex.Title, ex.Message, ex.RetryAfter,
                ex.Field is null ? null : new Dictionary<string, object?> { ["field"] = ex.Field });
        }
        catch (JobValidationException ex)
        {
            var status = ex.Kind == JobValidationKind.TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest;
            return ApiProblems.Create(http, status, status == 413 ? "Payload too large" : "Invalid job", ex.Reason, extensions: new Dictionary<string, object?> { ["field"] = ex.Field });
        }
        catch (JobConflictException ex)
        {
            return ApiProblems.Create(http, StatusCodes.Status409Conflict, "Conflict", ex.Message, extensions: new Dictionary<string, object?>
            {
                ["job_id"] = ex.JobId,
                ["conflicting_job_id"] = ex.ConflictingJobId,
                ["conflict"] = ex.Kind == JobConflictKind.KeyHeld ? "key_held" : "dependency_not_completed",
            });
        }
        catch (StorageCircuitOpenException ex)
        {
            return ApiProblems.Create(http, StatusCodes.Status503ServiceUnavailable, "Store unavailable", ex.Message, ex.RetryAfter);
        }
        catch (BadHttpRequestException ex)
        {
            return ApiProblems.Create(http, ex.StatusCode, "Bad request", ex.StatusCode == 413
                ? "The request body is larger than the server accepts; send fewer or smaller jobs."
                : $"The request could not be read: {ex.Message}");
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            throw;
        }
        catch (StoreOutcomeUnknownException ex)
        {
            ServerLog.StoreFailed(logger, http.GetEndpoint()?.DisplayName ?? http.Request.Path, ex.GetType().Name);
            return ApiProblems.Create(http, StatusCodes.Status503ServiceUnavailable, "Store outcome unknown",
                ex.Message, StoreRetryAfter);
        }
        catch (Exception ex) when (ex is IOException or DbException or TimeoutException or StoreCorruptException or ObjectDisposedException)
        {
            ServerLog.StoreFailed(logger, http.GetEndpoint()?.DisplayName ?? http.Request.Path, ex.GetType().Name);
            return ApiProblems.Create(http, StatusCodes.Status503ServiceUnavailable, "Store failed",
                $"The store failed to answer ({ex.GetType().Name}); nothing was changed by this request. Retry shortly; if it persists, check /health/detailed and the server log.",
                StoreRetryAfter);
        }
    }
}
