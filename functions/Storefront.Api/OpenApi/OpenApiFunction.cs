using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Net.Http.Headers;

namespace Storefront.Api.OpenApi;

/// <summary>Serves the API's OpenAPI document (openapi.yaml, embedded in this assembly) to anyone.</summary>
public static class OpenApiFunction
{
    public const string ContentType = "application/yaml";

    /// <summary>The EmbeddedResource's LogicalName in Storefront.Api.csproj.</summary>
    private const string ResourceName = "Storefront.Api.OpenApi.openapi.yaml";

    // Read and hashed once per worker; the document only changes with a deployment.
    private static readonly Lazy<(byte[] Content, EntityTagHeaderValue ETag)> Document = new(Load);

    [Function("GetOpenApiDocument")]
    public static FileContentHttpResult Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.yaml")] HttpRequest request)
    {
        var (content, etag) = Document.Value;
        request.HttpContext.Response.Headers.CacheControl = "public, max-age=300";

        // The file result sets ETag and answers If-None-Match with 304 itself.
        return TypedResults.Bytes(content, ContentType, entityTag: etag);
    }

    private static (byte[] Content, EntityTagHeaderValue ETag) Load()
    {
        using var stream = typeof(OpenApiFunction).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The assembly has no embedded resource '{ResourceName}'.");
        using var buffer = new MemoryStream(checked((int)stream.Length));
        stream.CopyTo(buffer);
        var content = buffer.ToArray();
        var hash = Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 16));
        return (content, new EntityTagHeaderValue($"\"{hash}\""));
    }
}
