using System.Security.Cryptography;
using System.Text;

namespace Bulwark.Server.Auth;

/// <summary>The configured API keys, kept only as SHA-256 hashes and compared in constant time.</summary>
internal sealed class ApiKeySet
{
    private readonly byte[][] _read;
    private readonly byte[][] _admin;

    public ApiKeySet(BulwarkServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _read = options.ReadKeys.Where(k => !string.IsNullOrEmpty(k)).Select(Hash).ToArray();
        _admin = options.AdminKeys.Where(k => !string.IsNullOrEmpty(k)).Select(Hash).ToArray();
    }

    public bool Enabled => _read.Length > 0 || _admin.Length > 0;

    public int ReadCount => _read.Length;

    public int AdminCount => _admin.Length;

    public ApiAccess Check(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return ApiAccess.None;
        }

        var hash = Hash(presented);
        // Every key is compared, whatever matched, so the time taken says nothing about which key (or how much of one) matched.
        var admin = false;
        var read = false;
        foreach (var key in _admin)
        {
            admin |= CryptographicOperations.FixedTimeEquals(hash, key);
        }

        foreach (var key in _read)
        {
            read |= CryptographicOperations.FixedTimeEquals(hash, key);
        }

        return admin ? ApiAccess.Admin : read ? ApiAccess.Read : ApiAccess.None;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
