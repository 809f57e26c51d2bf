namespace Bulwark.GameDay.Api;

/// <summary>What the server answered to a request: status, body, and the <c>Retry-After</c> header if any.</summary>
internal sealed record ApiAnswer(int Status, string Body, string? RetryAfter)
{
    public bool Succeeded => Status is >= 200 and < 300;
}
