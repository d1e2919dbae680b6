using System.Reflection;
using SharpYaml.Serialization;
using Storefront.Api.Orders;
using Storefront.Api.Reports;

namespace Storefront.UnitTests.Infrastructure;

/// <summary>
/// The state and kind names the code declares are exactly those the API document (openapi.yaml, embedded in the app)
/// names; the schema's CHECK constraints are held to the same document by SchemaContractTests.
/// </summary>
public sealed class StateNameTests
{
    [Theory]
    [InlineData(typeof(OrderStatus), "components/schemas/OrderStatus/enum")]
    [InlineData(typeof(PaymentStatus), "components/schemas/Order/properties/payment/properties/status/enum")]
    [InlineData(typeof(ReportStatus), "components/schemas/Report/properties/status/enum")]
    [InlineData(typeof(ReportKinds), "components/schemas/Report/properties/kind/enum")]
    public void The_constants_are_exactly_the_names_the_document_gives(Type constants, string documentPath)
    {
        var declared = constants.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!);

        var named = ((YamlSequenceNode)documentPath.Split('/').Aggregate(Document(), (node, key) => ((YamlMappingNode)node).Children[new YamlScalarNode(key)]))
            .Children.Select(v => ((YamlScalarNode)v).Value);

        Assert.Equal(named.Order(StringComparer.Ordinal), declared.Order(StringComparer.Ordinal));
    }

    private static YamlNode Document()
    {
        using var resource = typeof(OrderStatus).Assembly.GetManifestResourceStream("Storefront.Api.OpenApi.openapi.yaml")
            ?? throw new InvalidOperationException("openapi.yaml is not embedded in the app.");
        using var reader = new StreamReader(resource);
        var yaml = new YamlStream();
        yaml.Load(reader);
        return yaml.Documents.Single().RootNode;
    }
}
