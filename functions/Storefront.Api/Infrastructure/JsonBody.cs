using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Storefront.Api.Infrastructure;

/// <summary>
/// Reads a JSON request body with a size bound, turning every malformed body into a 4xx problem: JSON in UTF-8
/// only (RFC 8259), numbers as numbers, and a body the server could not read (broken framing, too slow) as the
/// client error it is.
/// </summary>
public static class JsonBody
{
    public const long MaxBytes = 256 * 1024;

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        MaxDepth = 16,
        // A property given twice is ambiguous (which one did the client mean?): refuse rather than guess.
        AllowDuplicateProperties = false,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        // The web defaults would read "2" as 2; a quantity sent as a string is a client bug worth a 400.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
    };

    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request)
        where T : class
    {
        if (!request.HasJsonContentType() || !IsUtf8(request))
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "The body must be application/json in UTF-8."));
        }

        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        try
        {
            await using var bounded = new BoundedStream(request.Body, MaxBytes);
            var value = await JsonSerializer.DeserializeAsync<T>(bounded, Options, request.HttpContext.RequestAborted);
            return value is null ? (null, Problems.BadRequest("The body must be a JSON object.")) : (value, null);
        }
        catch (BoundedStream.LimitExceededException)
        {
            return (null, TooLarge());
        }
        catch (JsonException exception)
        {
            var field = string.IsNullOrEmpty(exception.Path) || exception.Path == "$" ? "body" : exception.Path.TrimStart('$', '.');
            return (null, Problems.BadRequest("The body is not valid JSON for this request.", new Dictionary<string, string[]> { [field] = ["Malformed or of the wrong type."] }));
        }
        catch (System.Text.DecoderFallbackException)
        {
            return (null, Problems.BadRequest("The body is not valid UTF-8."));
        }
        catch (BadHttpRequestException exception)
        {
            // The body could not be read as sent: malformed framing (400), cut short (400), arriving too slowly (408).
            return (null, TypedResults.Problem(statusCode: exception.StatusCode, title: "The request body could not be read."));
        }
    }

    /// <summary>No charset means UTF-8 for JSON; any other declared charset (utf-16, latin1) is refused, not guessed at.</summary>
    private static bool IsUtf8(HttpRequest request)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) || !mediaType.Charset.HasValue)
        {
            return true;
        }

        var charset = mediaType.Charset.Value.Trim('"');
        return charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
    }

    private static ProblemHttpResult TooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: $"The body is larger than {MaxBytes / 1024} KiB.");

    /// <summary>Fails the read once more than the limit has been read, whatever Content-Length claimed.</summary>
    private sealed class BoundedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            _read += read;
            return _read > limit ? throw new LimitExceededException() : read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous reads are not allowed.");

        public override void Flush() => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public sealed class LimitExceededException : Exception;
    }
}
