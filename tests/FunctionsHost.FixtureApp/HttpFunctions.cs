using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Storefront.FunctionsHost.FixtureApp;

public sealed class HttpFunctions
{
    [Function("GetItem")]
    public IActionResult GetItem([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "items/{id:int}")] HttpRequest request, int id)
        => new OkObjectResult(new { id, query = request.Query["q"].ToString() });

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

    [Function("AdminOnly")]
    public IActionResult AdminOnly([HttpTrigger(AuthorizationLevel.Admin, "get", Route = "admin-only")] HttpRequest request)
        => new OkObjectResult(new { admin = true, sawKey = request.Headers.ContainsKey("x-functions-key") || request.Query.ContainsKey("code") });

    [Function("Fail")]
    public IActionResult Fail([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "fail")] HttpRequest request)
        => throw new InvalidOperationException("This function always fails.");

    [Function("Slow")]
    public async Task<IActionResult> Slow(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "slow/{milliseconds:int}")] HttpRequest request,
        int milliseconds,
        FunctionContext context)
    {
        try
        {
            await Task.Delay(milliseconds, context.CancellationToken);
            return new OkObjectResult(new { waited = milliseconds });
        }
        catch (OperationCanceledException)
        {
            await Probe.RecordAsync($"cancelled-{request.Query["tag"]}", "cancelled", CancellationToken.None);
            throw;
        }
    }

    [Function("Large")]
    public IActionResult Large([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "large/{kilobytes:int}")] HttpRequest request, int kilobytes)
        => new FileContentResult(Enumerable.Repeat((byte)'x', kilobytes * 1024).ToArray(), "application/octet-stream");
}
