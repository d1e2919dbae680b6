using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Storefront.Infrastructure.Tests;

/// <summary>Properties of infra/main.bicep (compiled offline to ARM JSON) that must hold in every environment.</summary>
public sealed partial class TemplateTests
{
    public static TheoryData<string> BicepFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Bicep.InfraDirectory, "*.bicep*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".bicep", StringComparison.Ordinal) || f.EndsWith(".bicepparam", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(Bicep.RepositoryRoot, file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public void Every_bicep_file_builds_and_lints_without_any_diagnostic(string file)
    {
        var path = Path.Combine(Bicep.RepositoryRoot, file);
        var build = file.EndsWith(".bicepparam", StringComparison.Ordinal)
            ? Bicep.Run("build-params", path, "--stdout")
            : Bicep.Run("build", path, "--stdout");
        Assert.True(build.ExitCode == 0, $"bicep build failed:\n{build.Error}");
        Assert.Equal("", build.Error);

        var lint = Bicep.Run("lint", path);
        Assert.True(lint.ExitCode == 0, $"bicep lint failed:\n{lint.Error}{lint.Output}");
        Assert.Equal("", (lint.Error + lint.Output).Trim());
    }

    [Fact]
    public void Every_parameter_has_a_description()
    {
        foreach (var (module, template) in Bicep.Templates(Bicep.Main))
        {
            foreach (var (name, parameter) in template["parameters"]?.AsObject() ?? [])
            {
                Assert.False(string.IsNullOrWhiteSpace(parameter?["metadata"]?["description"]?.GetValue<string>()), $"{module}: parameter {name} has no @description");
            }
        }
    }

    [Fact]
    public void Storage_is_identity_only_https_only_tls12_and_private()
    {
        var account = Assert.Single(Bicep.AllResources("Microsoft.Storage/storageAccounts")).Resource["properties"]!;
        Assert.False(account["allowSharedKeyAccess"]!.GetValue<bool>());
        Assert.False(account["allowBlobPublicAccess"]!.GetValue<bool>());
        Assert.True(account["supportsHttpsTrafficOnly"]!.GetValue<bool>());
        Assert.Equal("TLS1_2", account["minimumTlsVersion"]!.GetValue<string>());
    }

    [Fact]
    public void Function_app_runs_dotnet_isolated_10_on_flex_consumption_https_only_tls12_without_ftp()
    {
        var plan = Assert.Single(Bicep.AllResources("Microsoft.Web/serverfarms")).Resource;
        Assert.Equal("FC1", plan["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("FlexConsumption", plan["sku"]!["tier"]!.GetValue<string>());

        var site = Assert.Single(Bicep.AllResources("Microsoft.Web/sites")).Resource;
        var properties = site["properties"]!;
        Assert.True(properties["httpsOnly"]!.GetValue<bool>());
        Assert.Equal("1.2", properties["siteConfig"]!["minTlsVersion"]!.GetValue<string>());
        Assert.Equal("Disabled", properties["siteConfig"]!["ftpsState"]!.GetValue<string>());

        var config = properties["functionAppConfig"]!;
        Assert.Equal("dotnet-isolated", config["runtime"]!["name"]!.GetValue<string>());
        Assert.Equal("10.0", config["runtime"]!["version"]!.GetValue<string>());
        Assert.Equal("UserAssignedIdentity", config["deployment"]!["storage"]!["authentication"]!["type"]!.GetValue<string>());
        Assert.NotNull(config["scaleAndConcurrency"]!["triggers"]!["http"]!["perInstanceConcurrency"]);
        Assert.Equal("UserAssigned", site["identity"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Postgres_accepts_entra_tokens_only_and_runs_pgbouncer_in_transaction_mode()
    {
        var server = Assert.Single(Bicep.AllResources("Microsoft.DBforPostgreSQL/flexibleServers")).Resource;
        Assert.Equal("Enabled", server["properties"]!["authConfig"]!["activeDirectoryAuth"]!.GetValue<string>());
        Assert.Equal("Disabled", server["properties"]!["authConfig"]!["passwordAuth"]!.GetValue<string>());
        Assert.Single(Bicep.AllResources("Microsoft.DBforPostgreSQL/flexibleServers/administrators"));

        var enabled = Assert.Single(Bicep.AllResources("Microsoft.DBforPostgreSQL/flexibleServers/configurations"), c => c.Resource["name"]!.GetValue<string>().Contains("'pgbouncer.enabled'", StringComparison.Ordinal)).Resource;
        Assert.Equal("true", enabled["properties"]!["value"]!.GetValue<string>());
        var pgBouncer = Bicep.Module("postgres")["properties"]!["parameters"]!["pgBouncerParameters"]!["value"]!.AsObject();
        Assert.Equal("transaction", pgBouncer["pgbouncer.pool_mode"]!.GetValue<string>());

        var settings = AppSettings();
        Assert.Equal("6432", settings["Postgres__Port"]);
        Assert.Equal("true", settings["Postgres__UseEntraAuth"]);
    }

    [Fact]
    public void The_app_identity_has_exactly_the_expected_roles()
    {
        var expected = new HashSet<string>
        {
            "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", // Storage Blob Data Owner
            "974c5e8b-45b9-4653-ba55-5f855dd0fb88", // Storage Queue Data Contributor
            "3913510d-42f4-4e42-8a64-420c390055eb", // Monitoring Metrics Publisher
        };

        var assigned = new List<string>();
        foreach (var (_, template, resource) in Bicep.AllResources("Microsoft.Authorization/roleAssignments"))
        {
            var properties = resource["properties"]!;
            Assert.Equal("[parameters('principalId')]", properties["principalId"]!.GetValue<string>());
            var definition = properties["roleDefinitionId"]!.GetValue<string>();
            var reference = RoleVariable().Match(definition);
            Assert.True(reference.Success, $"unexpected roleDefinitionId expression {definition}");
            assigned.Add(template["variables"]!["roles"]![reference.Groups[1].Value]!.GetValue<string>());
        }

        Assert.Equal(expected.Order(), assigned.Order());
        Assert.Contains("principalId", Bicep.Module("roles")["properties"]!["parameters"]!["principalId"]!["value"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_secret_is_read_or_output()
    {
        var json = Bicep.Main.ToJsonString();
        foreach (var forbidden in new[] { "listKeys", "listConnectionStrings", "listSecrets", "listCredentials", "AccountKey", "SharedAccessSignature", "Password=" })
        {
            Assert.DoesNotContain(forbidden, json, StringComparison.OrdinalIgnoreCase);
        }

        foreach (var (module, template) in Bicep.Templates(Bicep.Main))
        {
            foreach (var (name, _) in template["outputs"]?.AsObject() ?? [])
            {
                Assert.DoesNotMatch(SecretName(), name);
                Assert.False(name.Contains("key", StringComparison.OrdinalIgnoreCase), $"{module}: output {name}");
            }

            foreach (var (name, parameter) in template["parameters"]?.AsObject() ?? [])
            {
                Assert.NotEqual("securestring", parameter?["type"]?.GetValue<string>(), StringComparer.OrdinalIgnoreCase);
                Assert.DoesNotMatch(SecretName(), name);
            }
        }
    }

    [Fact]
    public void Every_queue_the_functions_use_exists_with_its_poison_queue()
    {
        var metadataPath = Path.Combine(Bicep.AppDirectory, "functions.metadata");
        Assert.True(File.Exists(metadataPath), $"{metadataPath} is missing: build functions/Storefront.Api");
        var functions = JsonNode.Parse(File.ReadAllText(metadataPath))!.AsArray();
        var used = functions
            .SelectMany(f => f!["bindings"]!.AsArray())
            .Where(b => b!["type"]!.GetValue<string>() is "queueTrigger" or "queue")
            .Select(b => b!["queueName"]!.GetValue<string>())
            .ToHashSet();
        Assert.Contains("orders", used);

        var created = Bicep.Main["variables"]!["queueNames"]!.AsArray().Select(q => q!.GetValue<string>()).ToHashSet();
        Assert.Equal("[variables('queueNames')]", Bicep.Module("storage")["properties"]!["parameters"]!["queueNames"]!["value"]!.GetValue<string>());
        foreach (var queue in used)
        {
            Assert.Contains(queue, created);
            Assert.Contains(queue.EndsWith("-poison", StringComparison.Ordinal) ? queue : queue + "-poison", created);
        }

        // Planned report export: its queue pair and blob container.
        Assert.Superset(new HashSet<string> { "reports", "reports-poison" }, created);
        Assert.Contains("reports", Bicep.Main["variables"]!["containerNames"]!.AsArray().Select(c => c!.ToString()));
    }

    /// <summary>
    /// Every setting the app reads without a usable default (README "Configuration", the options classes, the
    /// Infrastructure extensions). Left out on purpose: FUNCTIONS_WORKER_RUNTIME (Flex Consumption refuses it as an
    /// app setting; functionAppConfig.runtime sets it), ConnectionStrings__Postgres (replaced by Postgres__* with an
    /// Entra token), AzureWebJobsStorage (replaced by its identity-based form), FUNCTIONS_HOST_*_KEY (local host
    /// only), and the settings with code defaults (timeouts, Catalog__*, other Orders__*).
    /// </summary>
    public static TheoryData<string> RequiredSettings() =>
    [
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "AzureWebJobsStorage__blobServiceUri",
        "AzureWebJobsStorage__queueServiceUri",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "Postgres__UseEntraAuth",
        "Postgres__Host",
        "Postgres__Port",
        "Postgres__Database",
        "Postgres__Username",
        "Postgres__ClientId",
        "Postgres__MaxPoolSize",
        "Services__Inventory__BaseUrl",
        "Services__Reviews__BaseUrl",
        "Services__Fx__BaseUrl",
        "Services__Payments__BaseUrl",
        "Services__Shipping__BaseUrl",
        "Services__Notifications__BaseUrl",
        "Recovery__SweepSchedule",
    ];

    [Theory]
    [MemberData(nameof(RequiredSettings))]
    public void Every_setting_the_app_reads_is_set_on_the_function_app(string setting)
    {
        Assert.True(AppSettings().TryGetValue(setting, out var value) && value.Length > 0, $"app setting {setting} is missing");
    }

    /// <summary>A trigger's %Name% expression (e.g. a timer's schedule) the host cannot resolve disables the function.</summary>
    [Fact]
    public void Every_setting_a_trigger_binding_refers_to_is_set_on_the_function_app()
    {
        var functions = JsonNode.Parse(File.ReadAllText(Path.Combine(Bicep.AppDirectory, "functions.metadata")))!.AsArray();
        var referenced = functions
            .SelectMany(f => f!["bindings"]!.AsArray())
            .SelectMany(b => b!.AsObject().Select(p => p.Value).OfType<JsonValue>())
            .Where(v => v.TryGetValue<string>(out _))
            .SelectMany(v => BindingSetting().Matches(v.GetValue<string>()).Select(m => m.Groups[1].Value.Replace(":", "__", StringComparison.Ordinal)))
            .ToHashSet();
        Assert.NotEmpty(referenced);

        var settings = AppSettings();
        Assert.All(referenced, name => Assert.True(settings.ContainsKey(name), $"app setting {name} (a binding expression of functions.metadata) is missing"));
    }

    [Fact]
    public void Identity_based_settings_name_the_app_identity()
    {
        var settings = AppSettings();
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Contains("clientId", settings["AzureWebJobsStorage__clientId"], StringComparison.Ordinal);
        Assert.StartsWith("[format('Authorization=AAD;ClientId={0}'", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], StringComparison.Ordinal);
        Assert.DoesNotContain("FUNCTIONS_WORKER_RUNTIME", settings.Keys);
    }

    [Fact]
    public void Private_networking_is_one_switch_wiring_the_app_subnet_and_private_endpoints()
    {
        var network = Bicep.Module("network");
        Assert.Equal("[parameters('vnetEnabled')]", network["condition"]!.GetValue<string>());

        var vnet = Assert.Single(Bicep.AllResources("Microsoft.Network/virtualNetworks")).Resource;
        var subnets = vnet["properties"]!["subnets"]!.AsArray();
        var app = subnets.Single(s => s!["name"]!.GetValue<string>() == "app")!;
        Assert.Equal("Microsoft.App/environments", app["properties"]!["delegations"]![0]!["properties"]!["serviceName"]!.GetValue<string>());

        var (_, networkTemplate, _) = Bicep.AllResources("Microsoft.Network/privateEndpoints").Single();
        var groups = networkTemplate["variables"]!["endpoints"]!.AsArray().Select(e => e!["groupId"]!.GetValue<string>()).Order();
        Assert.Equal(["blob", "postgresqlServer", "queue"], groups);

        var functionApp = Bicep.Module("functionApp")["properties"]!["parameters"]!;
        // A conditional parameter compiles to one expression: the network module's subnet output, or none.
        var subnet = functionApp["virtualNetworkSubnetId"]!.GetValue<string>();
        Assert.StartsWith("[if(parameters('vnetEnabled')", subnet, StringComparison.Ordinal);
        Assert.Contains("'network'", subnet, StringComparison.Ordinal);
        Assert.Contains("outputs.appSubnetId", subnet, StringComparison.Ordinal);
        var storage = Bicep.Module("storage")["properties"]!["parameters"]!;
        Assert.Equal("[parameters('vnetEnabled')]", storage["privateOnly"]!["value"]!.GetValue<string>());
        var postgres = Bicep.Module("postgres")["properties"]!["parameters"]!;
        Assert.Equal("[variables('postgresPublicNetworkAccessChecked')]", postgres["publicNetworkAccess"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public void The_dev_parameter_file_sets_every_required_parameter()
    {
        var declared = Bicep.Main["parameters"]!.AsObject();
        var given = Bicep.DevParameters["parameters"]!.AsObject();
        foreach (var (name, parameter) in declared)
        {
            Assert.True(parameter!["defaultValue"] is not null || given.ContainsKey(name), $"main.bicepparam does not set {name}");
        }
    }

    private static Dictionary<string, string> AppSettings() =>
        Bicep.Module("functionApp")["properties"]!["parameters"]!["appSettings"]!["value"]!.AsObject()
            .ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "");

    [GeneratedRegex(@"variables\('roles'\)\.(\w+)")]
    private static partial Regex RoleVariable();

    [GeneratedRegex("%([^%]+)%")]
    private static partial Regex BindingSetting();

    [GeneratedRegex("(?i)secret|password|pwd")]
    private static partial Regex SecretName();
}
