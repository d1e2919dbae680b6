using Azure.Core;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Storefront.Api.Infrastructure;

namespace Storefront.UnitTests.Infrastructure;

/// <summary>The app side of identity-based access: Entra tokens as PostgreSQL passwords, identity-based queues.</summary>
public sealed class EntraAuthTests
{
    [Fact]
    public async Task The_token_is_the_password_and_is_reused_while_fresh()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var credential = new FakeCredential(time, lifetime: TimeSpan.FromMinutes(60));
        var provider = new EntraPasswordProvider(credential, time);

        Assert.Equal("token-1", await provider.GetPasswordAsync(CancellationToken.None));
        time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal("token-1", await provider.GetPasswordAsync(CancellationToken.None));

        Assert.Equal(1, credential.Calls);
        Assert.Equal(["https://ossrdbms-aad.database.windows.net/.default"], credential.Scopes);
    }

    [Fact]
    public async Task A_token_near_its_expiry_is_refreshed_before_it_expires()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var credential = new FakeCredential(time, lifetime: TimeSpan.FromMinutes(10));
        var provider = new EntraPasswordProvider(credential, time);

        Assert.Equal("token-1", await provider.GetPasswordAsync(CancellationToken.None));
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal("token-1", await provider.GetPasswordAsync(CancellationToken.None));

        // 6 minutes in, token-1 has 4 minutes left: inside the refresh margin, so a new token is fetched
        // while the old one is still valid.
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(EntraPasswordProvider.RefreshMargin > TimeSpan.FromMinutes(4));
        Assert.Equal("token-2", await provider.GetPasswordAsync(CancellationToken.None));
        Assert.Equal(2, credential.Calls);
    }

    [Fact]
    public async Task Short_lived_tokens_are_asked_for_every_time()
    {
        var time = new ManualTime(DateTimeOffset.UnixEpoch);
        var credential = new FakeCredential(time, lifetime: TimeSpan.FromMinutes(1));
        var provider = new EntraPasswordProvider(credential, time);

        Assert.Equal("token-1", await provider.GetPasswordAsync(CancellationToken.None));
        Assert.Equal("token-2", await provider.GetPasswordAsync(CancellationToken.None));
        Assert.Equal(2, credential.Calls);
    }

    [Fact]
    public async Task The_data_source_logs_in_with_the_token_as_password()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        var credential = new FakeCredential(time, lifetime: TimeSpan.FromHours(1));
        var provider = new EntraPasswordProvider(credential, time);
        var passwords = new List<string>();

        var builder = new NpgsqlDataSourceBuilder("Host=127.0.0.1;Port=1;Username=app;Database=storefront;Timeout=1");
        builder.UsePeriodicPasswordProvider(
            async (_, cancellationToken) =>
            {
                var password = await provider.GetPasswordAsync(cancellationToken);
                passwords.Add(password);
                return password;
            },
            TimeSpan.FromMinutes(1),
            TimeSpan.FromSeconds(1));
        await using var dataSource = builder.Build();

        // Nothing listens on port 1; the password is asked for before the connection attempt.
        await Assert.ThrowsAnyAsync<Exception>(async () => await dataSource.OpenConnectionAsync());
        Assert.Equal("token-1", Assert.Single(passwords.Distinct()));
    }

    [Fact]
    public void The_entra_connection_goes_to_pgbouncer_with_transaction_pooling_settings()
    {
        var section = Section(new()
        {
            ["Postgres:Host"] = "psql-x.postgres.database.azure.com",
            ["Postgres:Username"] = "id-api-x",
            ["Postgres:MaxPoolSize"] = "20",
        });

        var connection = PostgresExtensions.CreateEntraConnectionStringBuilder(section);

        Assert.Equal(6432, connection.Port);
        Assert.Equal("storefront", connection.Database);
        Assert.Equal("id-api-x", connection.Username);
        Assert.Equal(20, connection.MaxPoolSize);
        Assert.True(connection.NoResetOnClose);
        Assert.Equal(0, connection.MaxAutoPrepare);
        Assert.Equal(SslMode.VerifyFull, connection.SslMode);
        Assert.Null(connection.Password);
    }

    [Fact]
    public void The_entra_connection_requires_host_and_username()
    {
        var error = Assert.Throws<InvalidOperationException>(() => PostgresExtensions.CreateEntraConnectionStringBuilder(Section(new() { ["Postgres:Username"] = "u" })));
        Assert.Contains("Postgres__Host", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Entra_auth_needs_no_connection_string()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Postgres:UseEntraAuth"] = "true",
            ["Postgres:Host"] = "psql-x.postgres.database.azure.com",
            ["Postgres:Username"] = "id-api-x",
            ["Postgres:ClientId"] = "00000000-0000-0000-0000-000000000001",
        });
        builder.Services.AddLogging();

        builder.AddPostgres();
        using var services = builder.Services.BuildServiceProvider();
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();

        Assert.Contains("Port=6432", dataSource.ConnectionString, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", dataSource.ConnectionString, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Queues_and_blobs_use_the_service_uris_and_identity_when_they_are_set()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage:queueServiceUri"] = "https://stx.queue.core.windows.net/",
            ["AzureWebJobsStorage:blobServiceUri"] = "https://stx.blob.core.windows.net/",
            ["AzureWebJobsStorage:clientId"] = "00000000-0000-0000-0000-000000000001",
        });

        builder.AddStorage();
        using var services = builder.Services.BuildServiceProvider();
        var queues = services.GetRequiredService<QueueServiceClient>();
        var blobs = services.GetRequiredService<Azure.Storage.Blobs.BlobServiceClient>();

        Assert.Equal("stx", queues.AccountName);
        Assert.False(queues.CanGenerateAccountSasUri); // no shared key anywhere
        Assert.Equal("stx", blobs.AccountName);
        Assert.False(blobs.CanGenerateAccountSasUri);
    }

    [Theory]
    [InlineData("Authorization=AAD;ClientId=abc", "abc")]
    [InlineData("ClientId = abc ; Authorization = AAD", "abc")]
    [InlineData("Authorization=AAD", null)]
    [InlineData("", null)]
    public void The_telemetry_identity_comes_from_the_authentication_string(string value, string? clientId) =>
        Assert.Equal(clientId, TelemetryExtensions.ClientIdFrom(value));

    private static IConfigurationSection Section(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(PostgresExtensions.Section);

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public void Advance(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;
    }

    /// <summary>Hands out token-1, token-2, ... each valid for <c>lifetime</c> from the current (fake) time.</summary>
    private sealed class FakeCredential(TimeProvider time, TimeSpan lifetime) : TokenCredential
    {
        public int Calls { get; private set; }

        public string[] Scopes { get; private set; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new NotSupportedException("The provider must not block on a token.");

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Calls++;
            Scopes = requestContext.Scopes;
            return ValueTask.FromResult(new AccessToken($"token-{Calls}", time.GetUtcNow() + lifetime));
        }
    }
}
