namespace Bulwark.Sample.Web;

/// <summary>The payload of <c>email.send</c>.</summary>
internal sealed record EmailMessage(string To, string Subject, long? OrderId);
