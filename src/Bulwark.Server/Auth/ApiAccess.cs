namespace Bulwark.Server.Auth;

/// <summary>What a presented key allows.</summary>
internal enum ApiAccess
{
    None,
    Read,
    Admin,
}
