using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Storefront.Api.ExternalServices;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Catalog;

/// <summary>Anonymous catalog reads: one product (fan-out), a page of products, a batch lookup.</summary>
public sealed class CatalogFunctions(ProductDetailsReader reader, ProductStore store, IOptions<CatalogOptions> options)
{
    private const int MaxPageSize = 100;
    private const int MaxLookupSkus = 50;

    [Function("GetProduct")]
    public async Task<Results<Ok<ProductDetails>, ProblemHttpResult>> GetProduct(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "products/{sku}")] HttpRequest request,
        string sku)
    {
        if (!Formats.IsSku(sku))
        {
            return Problems.BadRequest(nameof(sku), "A sku is 1 to 64 letters, digits or hyphens.");
        }

        if (CurrencyOf(request.Query["currency"]) is not { } currency)
        {
            return Problems.BadRequest("currency", "A currency is a three-letter ISO 4217 code.");
        }

        if (RefuseLate(request.HttpContext, out var waited) is { } refusal)
        {
            return refusal;
        }

        var result = await reader.ReadAsync(sku, currency, waited, request.HttpContext.RequestAborted);
        request.HttpContext.Response.Headers["Server-Timing"] = ServerTiming(result.Timings);
        return result.Status switch
        {
            ProductReadStatus.Found => TypedResults.Ok(result.Product),
            ProductReadStatus.NotFound => Problems.NotFound($"No product with sku '{sku}'."),
            ProductReadStatus.UnsupportedCurrency => Problems.BadRequest("currency", $"'{currency}' is not a supported currency."),
            _ => Problems.Unavailable(request.HttpContext, "The catalog is temporarily unavailable."),
        };
    }

    [Function("ListProducts")]
    public async Task<Results<Ok<ProductPage>, ProblemHttpResult>> ListProducts(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "products")] HttpRequest request)
    {
        var limit = 20;
        if (request.Query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxPageSize))
        {
            return Problems.BadRequest("limit", $"limit is a whole number from 1 to {MaxPageSize}.");
        }

        string? after = null;
        if (request.Query["after"] is { Count: > 0 } cursor && !string.IsNullOrEmpty(cursor[0]) && (after = ProductCursor.Decode(cursor[0]!)) is null)
        {
            return Problems.BadRequest("after", "after must be the 'next' value of a previous page.");
        }

        var search = request.Query["search"].ToString();
        if (search.Length > 100)
        {
            return Problems.BadRequest("search", "search is at most 100 characters.");
        }

        if (Formats.HasNul(search))
        {
            return Problems.BadRequest("search", "search must not contain a NUL character.");
        }

        var (rows, hasMore) = await store.ListAsync(search.Length == 0 ? null : search, limit, after, request.HttpContext.RequestAborted);
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

        var skus = body.Value!.Skus;
        if (skus is null || skus.Count is < 1 or > MaxLookupSkus)
        {
            return Problems.BadRequest("skus", $"skus is a list of 1 to {MaxLookupSkus} skus.");
        }

        if (!skus.All(Formats.IsSku))
        {
            return Problems.BadRequest("skus", "A sku is 1 to 64 letters, digits or hyphens.");
        }

        if (skus.Distinct(StringComparer.Ordinal).Count() != skus.Count)
        {
            return Problems.BadRequest("skus", "skus must be distinct.");
        }

        if (CurrencyOf(body.Value.Currency) is not { } currency)
        {
            return Problems.BadRequest("currency", "A currency is a three-letter ISO 4217 code.");
        }

        if (RefuseLate(request.HttpContext, out var waited) is { } refusal)
        {
            return refusal;
        }

        var (items, notFound, unsupported) = await reader.ReadManyAsync(skus, currency, waited, request.HttpContext.RequestAborted);
        return unsupported
            ? Problems.BadRequest("currency", $"'{currency}' is not a supported currency.")
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

    /// <returns>The upper-case code (USD when absent), or null when malformed.</returns>
    private static string? CurrencyOf(string? value) =>
        string.IsNullOrEmpty(value) ? FxRates.BaseCurrency
        : Formats.IsCurrencyCode(value) ? value.ToUpperInvariant()
        : null;

    private static string ServerTiming(IEnumerable<DependencyTiming> timings) => string.Join(
        ", ",
        timings.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name};dur={t.Duration.TotalMilliseconds:0.0}{(t.Failed ? ";desc=\"failed\"" : t.Cached ? ";desc=\"cached\"" : string.Empty)}")));
}
