using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Storefront.FunctionsHost.FixtureApp;

public sealed class HttpFunctions
{
    [Function("GetItem")]
    public IActionResult GetItem([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "items/{id:int}")] HttpRequest request, int id)
        => new OkObjectResult(new { id, query = request.Query["q"].ToString() });

    /// <summary>Named before <see cref="CatalogFeatured"/>, so in Azure its route takes "catalog/featured" too.</summary>
    [Function("CatalogEntry")]
    public IActionResult CatalogEntry([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "catalog/{name}")] HttpRequest request, string name)
        => new OkObjectResult(new { function = "CatalogEntry", name });

    /// <summary>ASP.NET Core's precedence would pick this literal route; the real host never reaches it.</summary>
    [Function("CatalogFeatured")]
    public IActionResult CatalogFeatured([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "catalog/featured")] HttpRequest request)
        => new OkObjectResult(new { function = "CatalogFeatured" });

    [Function("Echo")]
    public async Task<IActionResult> Echo([HttpTrigger(AuthorizationLevel.Function, "post", Route = "echo")] HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        return new ContentResult
        {
            Content = body,
            ContentType = request.ContentType ?? "text/plain",
            StatusCode = StatusCodes.Status200OK,
        };
    }

    /// <summary>Admin level; reports the key it received, since the real host forwards the request unchanged.</summary>
    [Function("AdminOnly")]
    public IActionResult AdminOnly([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "secured")] HttpRequest request)
        => new OkObjectResult(new { header = request.Headers["x-functions-key"].ToString(), code = request.Query["code"].ToString() });

    /// <summary>Echoes one request header's value as the worker decoded it.</summary>
    [Function("Header")]
    public IActionResult Header([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "header/{name}")] HttpRequest request, string name)
        => new OkObjectResult(new { value = request.Headers[name].ToString() });

    /// <summary>The client as the worker sees it, once its forwarded-headers handling has read the host's X-Forwarded headers.</summary>
    [Function("Client")]
    public IActionResult Client([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "client")] HttpRequest request)
        => new OkObjectResult(new { address = request.HttpContext.Connection.RemoteIpAddress?.ToString(), host = request.Host.Value, scheme = request.Scheme });

    /// <summary>Never ends and ignores its cancellation token: only the host's functionTimeout can end it.</summary>
    [Function("Hang")]
    public async Task<IActionResult> Hang([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "hang")] HttpRequest request)
    {
        await Probe.RecordAsync($"hang-{request.Query["tag"]}", "started", CancellationToken.None);
        await Task.Delay(Timeout.Infinite, CancellationToken.None);
        return new OkResult();
    }

    [Function("Fail")]
    public IActionResult Fail([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "fail")] HttpRequest request)
        => throw new InvalidOperationException("This function always fails.");

    [Function("Slow")]
    public async Task<IActionResult> Slow(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "slow/{milliseconds:int}")] HttpRequest request,
        int milliseconds,
        FunctionContext context)
    {
        var tag = request.Query["tag"].ToString();
        if (tag.Length > 0)
        {
            await Probe.RecordAsync($"started-{tag}", "started", CancellationToken.None);
        }

        try
        {
            await Task.Delay(milliseconds, context.CancellationToken);
            return new OkObjectResult(new { waited = milliseconds });
        }
        catch (OperationCanceledException)
        {
            await Probe.RecordAsync($"cancelled-{tag}", "cancelled", CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// Sends its first line at once, then waits for the test's go-ahead (a file named "go-{tag}" in the probe folder)
    /// before the second: the client can only read the first line before the function ends if the host streams.
    /// </summary>
    [Function("Trickle")]
    public async Task<IActionResult> Trickle([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "trickle/{tag}")] HttpRequest request, string tag, FunctionContext context)
    {
        var response = request.HttpContext.Response;
        response.ContentType = "text/plain";
        await response.WriteAsync("first\n", context.CancellationToken);
        await response.Body.FlushAsync(context.CancellationToken);
        await Probe.WaitForAsync($"go-{tag}", context.CancellationToken);
        await response.WriteAsync("second\n", context.CancellationToken);
        return new EmptyResult();
    }

    [Function("Large")]
    public IActionResult Large([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "large/{kilobytes:int}")] HttpRequest request, int kilobytes)
        => new FileContentResult(Enumerable.Repeat((byte)'x', kilobytes * 1024).ToArray(), "application/octet-stream");
}
