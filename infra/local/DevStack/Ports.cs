using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Storefront.DevStack;

public static class Ports
{
    /// <summary>A port from an environment variable or option: 1..65535; null when unset.</summary>
    public static int? Parse(string? value, string source)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
            ? port
            : throw new ArgumentException($"{source}: '{value}' is not a port (1-65535)");
    }

    /// <summary>Something accepts TCP connections on 127.0.0.1:port.</summary>
    public static async Task<bool> InUseAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Refuses a taken port with the setting that changes it: a silent conflict would have a health check pass against the wrong server.</summary>
    public static async Task EnsureFreeAsync(int port, string what, string hint, CancellationToken cancellationToken)
    {
        if (await InUseAsync(port, cancellationToken))
        {
            throw new InvalidOperationException($"port {port} ({what}) is already in use by another program; free it or {hint}");
        }
    }

    /// <summary>A port the system has free now (from its ephemeral range).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until the port accepts connections; false when the bound passes or <paramref name="child"/> exits first.</summary>
    public static async Task<bool> WaitOpenAsync(int port, TimeSpan within, ChildProcess? child, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (await InUseAsync(port, cancellationToken))
            {
                return true;
            }

            if (child?.HasExited == true)
            {
                return false;
            }

            await Task.Delay(100, cancellationToken);
        }

        return false;
    }
}
