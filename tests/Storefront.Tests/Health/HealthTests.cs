using System.Net;
using System.Text.Json;

namespace Storefront.Tests.Health;

[Collection(StorefrontCollection.Name)]
public sealed class HealthTests(StorefrontStack stack)
{
    [Fact]
    public async Task Health_is_200_with_a_healthy_check_for_postgres_and_storage()
    {
        var response = await stack.Client.GetAsync("api/health");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("healthy", body.RootElement.GetProperty("status").GetString());
        foreach (var check in new[] { "postgres", "storage" })
        {
            var entry = body.RootElement.GetProperty("checks").GetProperty(check);
            Assert.Equal("healthy", entry.GetProperty("status").GetString());
            Assert.True(entry.GetProperty("durationMs").GetDouble() >= 0);
        }

        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Health_is_503_naming_postgres_while_postgres_is_down_and_recovers_after()
    {
        await stack.StopPostgresAsync();
        try
        {
            var response = await stack.Client.GetAsync("api/health");
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("unhealthy", body.RootElement.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
            Assert.Equal("healthy", body.RootElement.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
        }
        finally
        {
            await stack.StartPostgresAsync();
        }

        // The app's pool recovers without a restart.
        Assert.True(
            await Eventually.TrueAsync(async () => (await stack.Client.GetAsync("api/health")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30)),
            "health did not recover after Postgres came back");
    }
}
