using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Catalog;

/// <summary>Anonymous catalog reads: one product (fan-out), a page of products, a batch lookup.</summary>
public sealed class CatalogFunctions(ProductDetailsReader reader, ProductStore store, IOptions<CatalogOptions> options)
{
    [Function("GetProduct")]
    public async Task<Results<Ok<ProductDetails>, ProblemHttpResult>> GetProduct(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "products/{sku}")] HttpRequest request,
        string sku)
    {
        var (read, errors) = CatalogValidator.ValidateRead(sku, request.Query["currency"]);
        if (read is null)
        {
            return Problems.Invalid(errors);
        }

        if (RefuseLate(request.HttpContext, out var waited) is { } refusal)
        {
            return refusal;
        }

        var result = await reader.ReadAsync(read.Sku, read.Currency, waited, request.HttpContext.RequestAborted);
        request.HttpContext.Response.Headers["Server-Timing"] = ServerTiming(result.Timings);
        return result.Status switch
        {
            ProductReadStatus.Found => TypedResults.Ok(result.Product),
            ProductReadStatus.NotFound => Problems.NotFound($"No product with sku '{sku}'."),
            ProductReadStatus.UnsupportedCurrency => Problems.BadRequest("currency", $"'{read.Currency}' is not a supported currency."),
            _ => Problems.Unavailable(request.HttpContext, "The catalog is temporarily unavailable."),
        };
    }

    [Function("ListProducts")]
    public async Task<Results<Ok<ProductPage>, ProblemHttpResult>> ListProducts(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "products")] HttpRequest request)
    {
        var (query, errors) = CatalogValidator.ValidateList(
            request.Query.TryGetValue("limit", out var limit) ? limit.ToString() : null,
            request.Query["after"] is { Count: > 0 } after ? after[0] : null,
            request.Query["search"].ToString());
        if (query is null)
        {
            return Problems.Invalid(errors);
        }

        var (rows, hasMore) = await store.ListAsync(query.Search, query.Limit, query.After, request.HttpContext.RequestAborted);
        var items = rows.Select(r => new ProductListItem(r.Sku, r.Name, Money.Usd(r.PriceUsd))).ToArray();
        return TypedResults.Ok(new ProductPage(items, hasMore ? ProductCursor.Encode(rows[^1].Sku) : null));
    }

    [Function("LookupProducts")]
    public async Task<Results<Ok<ProductLookupResponse>, ProblemHttpResult>> LookupProducts(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "products/lookup")] HttpRequest request)
    {
        var body = await JsonBody.ReadAsync<ProductLookupRequest>(request);
        if (body.Problem is { } problem)
        {
            return problem;
        }

        var (lookup, errors) = CatalogValidator.ValidateLookup(body.Value!);
        if (lookup is null)
        {
            return Problems.Invalid(errors);
        }

        if (RefuseLate(request.HttpContext, out var waited) is { } refusal)
        {
            return refusal;
        }

        var (items, notFound, unsupported) = await reader.ReadManyAsync(lookup.Skus, lookup.Currency, waited, request.HttpContext.RequestAborted);
        return unsupported
            ? Problems.BadRequest("currency", $"'{lookup.Currency}' is not a supported currency.")
            : TypedResults.Ok(new ProductLookupResponse(items, notFound));
    }

    /// <summary>A read that already waited too long to be answered well is refused before it costs anything.</summary>
    private ProblemHttpResult? RefuseLate(HttpContext context, out TimeSpan waited)
    {
        waited = RequestArrival.Waited(context);
        return waited >= options.Value.MaxWaitBeforeStart
            ? Problems.Unavailable(context, "The catalog is busy; try again shortly.")
            : null;
    }

    private static string ServerTiming(IEnumerable<DependencyTiming> timings) => string.Join(
        ", ",
        timings.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name};dur={t.Duration.TotalMilliseconds:0.0}{(t.Failed ? ";desc=\"failed\"" : t.Cached ? ";desc=\"cached\"" : string.Empty)}")));
}
