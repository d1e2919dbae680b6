namespace Storefront.Tests.Database;

[Collection(StorefrontCollection.Name)]
public sealed class DemoDataTests(StorefrontStack stack)
{
    [Fact]
    public async Task The_seeder_wrote_ten_thousand_products_with_sequential_skus_and_usd_prices()
    {
        await using var command = stack.Database.CreateCommand(
            "SELECT count(*), min(sku), max(sku), count(DISTINCT sku), bool_and(price_usd > 0 AND name <> '') FROM products WHERE sku LIKE 'SKU-_____'");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();

        Assert.Equal(10_000, reader.GetInt64(0));
        Assert.Equal("SKU-00001", reader.GetString(1));
        Assert.Equal("SKU-10000", reader.GetString(2));
        Assert.Equal(10_000, reader.GetInt64(3));
        Assert.True(reader.GetBoolean(4));
    }

    [Fact]
    public async Task Every_migration_was_applied_once()
    {
        await using var command = stack.Database.CreateCommand("SELECT count(*), count(DISTINCT scriptname) FROM schemaversions");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();

        Assert.True(reader.GetInt64(0) >= 4);
        Assert.Equal(reader.GetInt64(0), reader.GetInt64(1));
    }
}
