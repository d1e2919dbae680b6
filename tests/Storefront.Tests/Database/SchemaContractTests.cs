using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Storefront.Tests.OpenApi;

namespace Storefront.Tests.Database;

/// <summary>
/// The states and kinds the API document names are exactly those the schema's CHECK constraints allow: the SQL writes
/// them as literals, so the migrations and openapi.yaml are the two lists that must agree.
/// </summary>
[Collection(StorefrontCollection.Name)]
public sealed partial class SchemaContractTests(StorefrontStack stack)
{
    [Theory]
    [InlineData("orders", "status", "components/schemas/OrderStatus/enum")]
    [InlineData("orders", "payment_status", "components/schemas/Order/properties/payment/properties/status/enum")]
    [InlineData("reports", "status", "components/schemas/Report/properties/status/enum")]
    [InlineData("reports", "kind", "components/schemas/Report/properties/kind/enum")]
    public async Task A_column_allows_exactly_the_values_the_document_names(string table, string column, string documentPath)
    {
        var contract = await ApiContract.FetchAsync(stack.Client);

        var allowed = await AllowedValuesAsync(table, column);
        var named = documentPath.Split('/').Aggregate<string, JsonNode?>(contract.Root, (node, key) => node?[key])!.AsArray().Select(v => v!.GetValue<string>());

        Assert.NotEmpty(allowed);
        Assert.Equal(named.Order(StringComparer.Ordinal), allowed.Order(StringComparer.Ordinal));
    }

    /// <summary>The quoted values of the CHECK constraint on the column (<c>column IN ('a', 'b')</c>, as PostgreSQL prints it back).</summary>
    private async Task<string[]> AllowedValuesAsync(string table, string column)
    {
        await using var command = stack.Database.CreateCommand(
            """
            SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
            WHERE c.conrelid = $1::regclass AND c.contype = 'c' AND a.attname = $2 AND cardinality(c.conkey) = 1
            """);
        command.Parameters.AddWithValue(table);
        command.Parameters.AddWithValue(column);
        var definitions = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            definitions.Add(reader.GetString(0));
        }

        var lists = definitions.Where(d => d.Contains("ANY", StringComparison.Ordinal)).ToArray();
        return [.. QuotedValue().Matches(Assert.Single(lists)).Select(m => m.Groups[1].Value)];
    }

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex QuotedValue();
}
