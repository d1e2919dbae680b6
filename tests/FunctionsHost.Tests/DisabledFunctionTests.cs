using System.Net;

namespace Storefront.FunctionsHost.Tests;

/// <summary>
/// AzureWebJobs.{function}.Disabled, as the real host reads it (the WebJobs listener factory, and the HTTP middleware
/// that answers a disabled function's requests): no listener or schedule for a disabled trigger, and a 404 for a
/// disabled HTTP function unless the master key is sent. The Linux form, AzureWebJobs_{function}_Disabled, counts too.
/// </summary>
public sealed class DisabledFunctionTests(DisabledFunctionTests.DisabledFixture disabled) : IClassFixture<DisabledFunctionTests.DisabledFixture>
{
    private FixtureHost Fixture => disabled.Inner;

    [Fact]
    public void A_disabled_queue_or_timer_function_is_neither_polled_nor_scheduled()
    {
        Assert.DoesNotContain(Fixture.TextQueue, Fixture.Host.PolledQueues);
        Assert.Contains(Fixture.ModelQueue, Fixture.Host.PolledQueues);
        Assert.DoesNotContain("Tick", Fixture.Host.ScheduledFunctions);
        Assert.Contains("Daily", Fixture.Host.ScheduledFunctions);
    }

    [Fact]
    public async Task A_disabled_http_function_is_404_without_a_body_for_any_key_but_the_master_key()
    {
        var anonymous = await Fixture.Client.GetAsync("api/items/7");
        var functionKey = await Fixture.Client.GetAsync($"api/items/7?code={Fixture.Host.Settings.FunctionKey}");
        var masterKey = await Fixture.Client.GetAsync($"api/items/7?code={Fixture.Host.Settings.MasterKey}");

        Assert.Equal(HttpStatusCode.NotFound, anonymous.StatusCode);
        Assert.Empty(await anonymous.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, functionKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, masterKey.StatusCode);
    }

    [Fact]
    public async Task A_setting_that_is_not_true_leaves_the_function_enabled()
    {
        var response = await Fixture.Client.GetAsync("api/header/x-test");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public sealed class DisabledFixture : IAsyncLifetime
    {
        public FixtureHost Inner { get; } = new()
        {
            ExtraSettings = new Dictionary<string, string>
            {
                ["AzureWebJobs.GetItem.Disabled"] = "true",
                ["AzureWebJobs.QueueText.Disabled"] = "True",
                ["AzureWebJobs_Tick_Disabled"] = "1",
                ["AzureWebJobs.Header.Disabled"] = "false",
            },
        };

        public Task InitializeAsync() => Inner.InitializeAsync();

        public Task DisposeAsync() => Inner.DisposeAsync();
    }
}
