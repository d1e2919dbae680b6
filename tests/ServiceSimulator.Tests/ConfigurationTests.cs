namespace Storefront.ServiceSimulator.Tests;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("--Simulator:Services:paymnts:LatencyMs=5")]
    [InlineData("--Simulator:Services:payments:Latency=5")]
    [InlineData("--Simulator:Services:payments:ErrorRate=1.5")]
    [InlineData("--Simulator:Services:payments:ErrorStatus=302")]
    [InlineData("--Simulator:Services:payments:LatencyMs=soon")]
    [InlineData("--Simulator:CallLogCapacity=0")]
    [InlineData("--Simulator:MaxHangSeconds=301")]
    public void Invalid_start_up_configuration_fails_fast(string argument)
    {
        var exception = Assert.Throws<InvalidOperationException>(() => SimulatorApp.Create(["--urls", "http://127.0.0.1:0", argument]));

        Assert.StartsWith("Configuration Simulator:", exception.Message, StringComparison.Ordinal);
    }
}
