using Azure.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Storefront.Api.Infrastructure;

public static class PostgresExtensions
{
    public const string ConnectionStringName = "Postgres";

    /// <summary>Configuration section of the Entra (token) connection: <c>Postgres:*</c>, app settings <c>Postgres__*</c>.</summary>
    public const string Section = "Postgres";

    /// <summary>PgBouncer's port on Azure Database for PostgreSQL Flexible Server (PostgreSQL itself is on 5432).</summary>
    public const int PgBouncerPort = 6432;

    public const int DefaultMaxPoolSize = 20;

    /// <summary>
    /// Registers the one <see cref="NpgsqlDataSource"/> (and so the one connection pool) of the app: from
    /// <c>ConnectionStrings:Postgres</c>, or, when <c>Postgres:UseEntraAuth</c> is true, from <c>Postgres:Host</c>,
    /// <c>Port</c>, <c>Database</c>, <c>Username</c> with a Microsoft Entra token of the managed identity
    /// (<c>Postgres:ClientId</c>) as the password, refreshed before it expires.
    /// </summary>
    public static IHostApplicationBuilder AddPostgres(this IHostApplicationBuilder builder)
    {
        var entra = builder.Configuration.GetSection(Section);
        if (entra.GetValue<bool>("UseEntraAuth"))
        {
            var connection = CreateEntraConnectionStringBuilder(entra);
            var clientId = entra["ClientId"];
            builder.Services.AddSingleton(services =>
            {
                var passwordProvider = new EntraPasswordProvider(AzureCredentials.Create(clientId), TimeProvider.System);
                var dataSourceBuilder = new NpgsqlDataSourceBuilder(connection.ConnectionString);
                dataSourceBuilder.UseLoggerFactory(services.GetRequiredService<ILoggerFactory>());
                // Asked for every new physical connection's password at this interval; the provider answers from
                // its cache until the token is within EntraPasswordProvider.RefreshMargin of expiring.
                dataSourceBuilder.UsePeriodicPasswordProvider(
                    (_, cancellationToken) => passwordProvider.GetPasswordAsync(cancellationToken),
                    successRefreshInterval: TimeSpan.FromMinutes(1),
                    failureRefreshInterval: TimeSpan.FromSeconds(5));
                return dataSourceBuilder.Build();
            });
            return builder;
        }

        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"Configuration 'ConnectionStrings:{ConnectionStringName}' " +
                $"(environment variable ConnectionStrings__{ConnectionStringName}) is required " +
                $"unless '{Section}:UseEntraAuth' is true.");
        }

        builder.Services.AddSingleton(services =>
        {
            var dataSourceBuilder = new NpgsqlDataSourceBuilder(connectionString);
            // Makes the app's sessions recognisable in pg_stat_activity unless the connection string names them.
            dataSourceBuilder.ConnectionStringBuilder.ApplicationName ??= AppName;
            // Without it every command on a connection just taken from the pool is preceded by DISCARD ALL. The app
            // keeps no session state (no SET, temporary tables, LISTEN or advisory locks; transactions are always
            // ended), which the Entra connection below assumes as well; a connection string can still say otherwise.
            var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
            if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
            {
                dataSourceBuilder.ConnectionStringBuilder.NoResetOnClose = true;
            }

            dataSourceBuilder.UseLoggerFactory(services.GetRequiredService<ILoggerFactory>());
            return dataSourceBuilder.Build();
        });
        return builder;
    }

    /// <summary>
    /// The Entra connection's settings, without a password (the token provider supplies it): PgBouncer's port and
    /// what its transaction pooling needs (no session state kept across transactions).
    /// </summary>
    public static NpgsqlConnectionStringBuilder CreateEntraConnectionStringBuilder(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return new NpgsqlConnectionStringBuilder
        {
            Host = Required(section, "Host"),
            Port = section.GetValue("Port", PgBouncerPort),
            Database = section["Database"] is { Length: > 0 } database ? database : "storefront",
            // The managed identity's name: the role pgaadauth_create_principal created for it.
            Username = Required(section, "Username"),
            SslMode = SslMode.VerifyFull,
            MaxPoolSize = section.GetValue("MaxPoolSize", DefaultMaxPoolSize),
            // Transaction pooling hands each transaction to any server connection: reset queries (DISCARD ALL)
            // would run on someone else's connection and prepared statements would not be found there.
            NoResetOnClose = true,
            MaxAutoPrepare = 0,
            ApplicationName = AppName,
        };
    }

    private static string AppName => typeof(PostgresExtensions).Assembly.GetName().Name ?? "Storefront.Api";

    private static string Required(IConfiguration section, string key) =>
        section[key] is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"Configuration '{Section}:{key}' (app setting {Section}__{key}) is required when '{Section}:UseEntraAuth' is true.");
}

/// <summary>
/// Supplies a Microsoft Entra access token for Azure Database for PostgreSQL as the connection password. Keeps the
/// token until it is within <see cref="RefreshMargin"/> of its expiry, then asks the credential again, so a
/// connection opened at any time gets a token that is still valid.
/// </summary>
public sealed class EntraPasswordProvider(TokenCredential credential, TimeProvider timeProvider)
{
    /// <summary>The scope of Azure Database for PostgreSQL tokens (oss-rdbms).</summary>
    public const string Scope = "https://ossrdbms-aad.database.windows.net/.default";

    public static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private AccessToken? _token;

    public async ValueTask<string> GetPasswordAsync(CancellationToken cancellationToken)
    {
        if (Fresh(_token) is { } cached)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh(_token) is { } refreshed)
            {
                return refreshed;
            }

            var token = await credential.GetTokenAsync(new TokenRequestContext([Scope]), cancellationToken).ConfigureAwait(false);
            _token = token;
            return token.Token;
        }
        finally
        {
            _gate.Release();
        }
    }

    private string? Fresh(AccessToken? token) =>
        token is { } value && value.ExpiresOn - RefreshMargin > timeProvider.GetUtcNow() ? value.Token : null;
}
