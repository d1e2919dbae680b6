using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Storefront.ServiceSimulator;

namespace Storefront.DevStack;

/// <summary>The service simulator in this process on a free port (tests and the soak read its state through its admin API).</summary>
public sealed class InProcessSimulator : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessSimulator(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    /// <param name="settings">Simulator settings as "--Simulator:KEY=VALUE" arguments (see its README).</param>
    public static async Task<InProcessSimulator> StartAsync(IEnumerable<string> settings, CancellationToken cancellationToken)
    {
        var app = SimulatorApp.Create(["--urls", "http://127.0.0.1:0", .. settings]);
        await app.StartAsync(cancellationToken);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return new InProcessSimulator(app, address);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
