using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Storefront.Api.Infrastructure;

public static class PostgresExtensions
{
    public const string ConnectionStringName = "Postgres";

    /// <summary>
    /// Registers the one <see cref="NpgsqlDataSource"/> (and so the one connection pool) of the app.
    /// Authentication changes, such as Entra tokens through UsePeriodicPasswordProvider, belong here.
    /// </summary>
    public static IHostApplicationBuilder AddPostgres(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"Configuration 'ConnectionStrings:{ConnectionStringName}' " +
                $"(environment variable ConnectionStrings__{ConnectionStringName}) is required.");
        }

        builder.Services.AddSingleton(services =>
        {
            var dataSourceBuilder = new NpgsqlDataSourceBuilder(connectionString);
            // Makes the app's sessions recognisable in pg_stat_activity unless the connection string names them.
            dataSourceBuilder.ConnectionStringBuilder.ApplicationName ??= typeof(PostgresExtensions).Assembly.GetName().Name;
            dataSourceBuilder.UseLoggerFactory(services.GetRequiredService<ILoggerFactory>());
            return dataSourceBuilder.Build();
        });
        return builder;
    }
}
