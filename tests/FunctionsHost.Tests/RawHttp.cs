using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Storefront.FunctionsHost.Tests;

/// <summary>
/// HTTP/1.1 over a bare socket, for requests no well-behaved client sends: broken chunked framing, a body
/// shorter than its Content-Length, a body trickled in slowly. Returns the status line and headers the
/// server answered (status 0 when it closed the connection without answering).
/// </summary>
public static class RawHttp
{
    /// <summary>
    /// Only keeps a server that never answers from stalling the test run; every server timeout that can end
    /// such a request (request body rate, headers timeout) is far shorter. Not a latency bound.
    /// </summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(100);

    public static async Task<RawAnswer> SendAsync(Uri baseAddress, string head, Func<Stream, CancellationToken, Task>? writeBody = null)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        using var client = new TcpClient();
        await client.ConnectAsync(baseAddress.Host, baseAddress.Port, guard.Token);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(head), guard.Token);
        var reading = ReadAnswerAsync(stream, guard.Token);
        if (writeBody is not null)
        {
            try
            {
                // The server may answer and close before the body is all sent; its answer is what counts.
                await Task.WhenAny(writeBody(stream, guard.Token), reading);
            }
            catch (IOException)
            {
            }
        }

        return await reading;
    }

    private static async Task<RawAnswer> ReadAnswerAsync(Stream stream, CancellationToken cancellationToken)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        try
        {
            while (IndexOfHeaderEnd(received) < 0)
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                received.AddRange(buffer.AsSpan(0, read).ToArray());
            }
        }
        catch (IOException)
        {
            // Reset by the server: whatever arrived before is the answer.
        }

        var text = Encoding.UTF8.GetString([.. received]);
        var lines = text.Split("\r\n");
        var statusParts = lines[0].Split(' ');
        var status = statusParts.Length > 1 && int.TryParse(statusParts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : 0;
        var headers = lines.Skip(1).TakeWhile(l => l.Length > 0).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim(), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First()[1].Trim(), StringComparer.OrdinalIgnoreCase);
        return new RawAnswer(status, headers);
    }

    private static int IndexOfHeaderEnd(List<byte> received)
    {
        for (var i = 3; i < received.Count; i++)
        {
            if (received[i - 3] == '\r' && received[i - 2] == '\n' && received[i - 1] == '\r' && received[i] == '\n')
            {
                return i;
            }
        }

        return -1;
    }
}

public sealed record RawAnswer(int Status, IReadOnlyDictionary<string, string> Headers);
