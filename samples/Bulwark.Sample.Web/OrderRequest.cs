namespace Bulwark.Sample.Web;

/// <summary>The body of <c>POST /orders</c>.</summary>
internal sealed record OrderRequest(string? Email, string? Item);
