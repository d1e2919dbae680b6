using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Storefront.FunctionsHost.Http;

/// <summary>
/// Function keys as the real host checks them: <c>x-functions-key</c> header or <c>code</c> query
/// parameter; the master key passes every level, a function key passes Function level.
/// </summary>
internal sealed class KeyAuthorization(AppSettings settings)
{
    public const string HeaderName = "x-functions-key";
    public const string QueryName = "code";

    public bool IsAuthorized(HttpRequest request, AuthLevel level)
    {
        if (level == AuthLevel.Anonymous)
        {
            return true;
        }

        var presented = request.Headers.TryGetValue(HeaderName, out var header) && header.Count > 0
            ? header[0]
            : request.Query.TryGetValue(QueryName, out var query) ? query[0] : null;
        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        return Matches(presented, settings.MasterKey)
            || (level == AuthLevel.Function && Matches(presented, settings.FunctionKey));
    }

    private static bool Matches(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
