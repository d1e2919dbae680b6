using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Storefront.Api.Health;

public sealed class HealthFunction(HealthCheckService healthChecks)
{
    [Function("Health")]
    public async Task<JsonHttpResult<HealthResponse>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
    {
        var report = await healthChecks.CheckHealthAsync(request.HttpContext.RequestAborted);

        // A cached answer would hide an outage from probes and load balancers.
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        var statusCode = report.Status == HealthStatus.Healthy
            ? StatusCodes.Status200OK
            : StatusCodes.Status503ServiceUnavailable;
        return TypedResults.Json(HealthResponse.From(report), statusCode: statusCode);
    }
}
