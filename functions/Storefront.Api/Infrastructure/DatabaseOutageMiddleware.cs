using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Npgsql;

namespace Storefront.Api.Infrastructure;

/// <summary>
/// The one place where "the database cannot answer" becomes an answer: any HTTP function that meets a database
/// outage (<see cref="DependencyFailures.IsDatabaseFailure"/>) answers <c>503</c> problem+json with <c>Retry-After</c>, so the
/// functions need no try/catch of their own. A statement the database refuses is not an outage and is not caught.
/// When the outage was a connection the server had closed, the pool's other idle connections go with it, so the
/// next requests open new ones.
/// </summary>
public sealed class DatabaseOutageMiddleware(NpgsqlDataSource dataSource) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception exception) when (context.GetHttpContext() is { } http && !http.Response.HasStarted && DependencyFailures.IsDatabaseFailure(exception, http.RequestAborted))
        {
            if (DependencyFailures.IsClosedConnection(exception))
            {
                dataSource.Clear();
            }

            await Problems.Unavailable(http, "The database is unavailable; retry shortly (orders with the same Idempotency-Key).").ExecuteAsync(http);
        }
    }
}
