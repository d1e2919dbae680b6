using Storefront.FunctionsHost.Http;
using Storefront.FunctionsHost.Rpc;

namespace Storefront.FunctionsHost.Tests;

/// <summary>
/// What the host refuses at start, checked on the metadata a worker would return: routes in the real host's
/// reserved space, routes that clash (ScriptHost.ValidateHttpFunction / HttpRoutesConflict), and triggers or
/// bindings this host cannot run.
/// </summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("admin")]
    [InlineData("Admin/keys")]
    [InlineData("/administrator")]
    [InlineData("runtime/webhooks")]
    [InlineData("runtimes")]
    public void A_route_in_the_reserved_space_is_refused(string route)
    {
        var refusal = Assert.Throws<InvalidOperationException>(() => FunctionRoutes.Validate([Http("Reserved", route, "get")]));

        Assert.Equal("Function 'Reserved': The specified route conflicts with one or more built in routes.", refusal.Message);
    }

    [Fact]
    public void A_function_named_admin_without_a_route_is_refused_too()
    {
        Assert.Throws<InvalidOperationException>(() => FunctionRoutes.Validate([Http("AdminTools", null, "get")]));
    }

    [Theory]
    [InlineData("items/{id}", "get", "items/{id}", "get")]
    [InlineData("items/{id}", "get,post", "/Items/{id}/", "post")]
    [InlineData("items", "", "items", "delete")]
    public void The_same_route_with_a_method_in_common_is_refused(string route, string methods, string otherRoute, string otherMethods)
    {
        var refusal = Assert.Throws<InvalidOperationException>(() => FunctionRoutes.Validate([Http("First", route, methods), Http("Second", otherRoute, otherMethods)]));

        Assert.Equal("Function 'Second': The route specified conflicts with the route defined by function 'First'.", refusal.Message);
    }

    [Theory]
    [InlineData("items/{id}", "get", "items/{id}", "delete")]
    [InlineData("items/{id}", "get", "items/{key}", "get")]
    [InlineData("items/admin", "get", "items", "get")]
    public void Distinct_routes_or_disjoint_methods_start(string route, string methods, string otherRoute, string otherMethods)
    {
        FunctionRoutes.Validate([Http("First", route, methods), Http("Second", otherRoute, otherMethods)]);
    }

    [Fact]
    public void An_unsupported_trigger_is_refused_by_name()
    {
        var blob = Function("OnUpload", """{"name":"blob","type":"blobTrigger","direction":"In","path":"uploads/{name}"}""");

        var refusal = Assert.Throws<InvalidOperationException>(() => FunctionSupport.EnsureRunnable([blob], workerServesHttp: true));

        Assert.Contains("Function 'OnUpload': trigger 'blobTrigger' is not supported", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_binding_is_refused_rather_than_ignored()
    {
        var withOutput = Function(
            "Forward",
            """{"name":"message","type":"queueTrigger","direction":"In","queueName":"in"}""",
            """{"name":"$return","type":"queue","direction":"Out","queueName":"out"}""");

        var refusal = Assert.Throws<InvalidOperationException>(() => FunctionSupport.EnsureRunnable([withOutput], workerServesHttp: true));

        Assert.Contains("binding '$return' (queue, Out) is not supported", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Http_queue_and_timer_triggers_with_the_http_response_binding_are_runnable()
    {
        FunctionSupport.EnsureRunnable(
            [
                Http("Get", "items", "get"),
                Function("Work", """{"name":"message","type":"queueTrigger","direction":"In","queueName":"in"}"""),
                Function("Tick", """{"name":"timer","type":"timerTrigger","direction":"In","schedule":"0 * * * * *"}"""),
            ],
            workerServesHttp: true);
    }

    [Fact]
    public void Http_functions_without_the_aspnetcore_integration_are_refused()
    {
        var refusal = Assert.Throws<InvalidOperationException>(() => FunctionSupport.EnsureRunnable([Http("Get", "items", "get")], workerServesHttp: false));

        Assert.Contains("Function 'Get': HTTP functions need the worker's ASP.NET Core integration", refusal.Message, StringComparison.Ordinal);
    }

    private static FunctionDescriptor Http(string name, string? route, string methods)
    {
        var methodList = string.Join(",", methods.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(m => $"\"{m}\""));
        var routeProperty = route is null ? string.Empty : $",\"route\":\"{route}\"";
        return Function(
            name,
            $$"""{"name":"req","type":"httpTrigger","direction":"In","authLevel":"Anonymous","methods":[{{methodList}}]{{routeProperty}}}""",
            """{"name":"$return","type":"http","direction":"Out"}""");
    }

    private static FunctionDescriptor Function(string name, params string[] bindings)
    {
        var metadata = new RpcFunctionMetadata { Name = name, FunctionId = Guid.NewGuid().ToString() };
        metadata.RawBindings.Add(bindings);
        return FunctionDescriptor.From(metadata);
    }
}
