namespace Bulwark.Server.Api;

/// <summary>Refuses a request with an HTTP status and a detail that says what to change; the error filter turns it into problem+json.</summary>
internal sealed class ApiProblemException(int status, string title, string detail, TimeSpan? retryAfter = null, string? field = null) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The body field at fault, answered as the problem's <c>field</c> like a validation error's.</summary>
    public string? Field { get; } = field;

    public static ApiProblemException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Bad request", detail);

    public static ApiProblemException NotFound(string detail) => new(StatusCodes.Status404NotFound, "Not found", detail);

    public static ApiProblemException Conflict(string detail) => new(StatusCodes.Status409Conflict, "Conflict", detail);
}
