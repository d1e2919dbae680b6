using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Storefront.Api.Health;

namespace Storefront.UnitTests.Infrastructure;

/// <summary>
/// In Azure a request goes to the first function, by name, whose route matches, not to the most specific template
/// (azure-functions-host#9876): a GET "products/featured" beside GET "products/{sku}" would be served by GetProduct.
/// So no two of the app's HTTP functions may match the same path with a method in common.
/// </summary>
public sealed class RouteOverlapTests
{
    [Fact]
    public void No_two_http_functions_can_match_the_same_request()
    {
        var routes = HttpRoutes().ToArray();

        var overlapping = routes.SelectMany((a, i) => routes.Skip(i + 1).Where(b => ShareAMethod(a.Methods, b.Methods) && Overlap(a.Template, b.Template))
            .Select(b => $"{a.Function} ({a.Template}) and {b.Function} ({b.Template})"));

        Assert.True(routes.Length >= 10, $"only {routes.Length} HTTP functions found");
        // Optional, defaulted and catch-all parameters match paths of other lengths, which Overlap does not consider.
        Assert.DoesNotContain(routes, r => r.Template.IndexOfAny(['?', '=', '*']) >= 0);
        Assert.Empty(overlapping);
    }

    [Theory]
    [InlineData("products/{sku}", "products/featured", true)]
    [InlineData("products/{sku}", "products", false)]
    [InlineData("reports/{id}", "reports/{id}/content", false)]
    [InlineData("orders/{id}", "ORDERS/{key}", true)]
    [InlineData("health", "openapi.yaml", false)]
    public void Templates_overlap_when_every_segment_could_match_the_same_text(string a, string b, bool expected) =>
        Assert.Equal(expected, Overlap(a, b));

    private static bool Overlap(string a, string b)
    {
        var first = a.Trim('/').Split('/');
        var second = b.Trim('/').Split('/');
        return first.Length == second.Length
            && first.Zip(second).All(pair => IsParameter(pair.First) || IsParameter(pair.Second) || string.Equals(pair.First, pair.Second, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A trigger that lists no methods takes them all.</summary>
    private static bool ShareAMethod(string[] a, string[] b) => a.Length == 0 || b.Length == 0 || a.Intersect(b).Any();

    private static bool IsParameter(string segment) => segment.StartsWith('{') && segment.EndsWith('}');

    private static IEnumerable<(string Function, string Template, string[] Methods)> HttpRoutes() =>
        from method in typeof(HealthFunction).Assembly.GetTypes().SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
        let function = method.GetCustomAttribute<FunctionAttribute>()
        let trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(t => t is not null)
        where function is not null && trigger is not null
        select (function.Name, trigger.Route ?? function.Name, (trigger.Methods ?? []).Select(m => m.ToUpperInvariant()).ToArray());
}
