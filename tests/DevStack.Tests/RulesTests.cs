namespace Storefront.DevStack.Tests;

public sealed class RulesTests
{
    [Theory]
    [InlineData("15432", 15432)]
    [InlineData("1", 1)]
    [InlineData("65535", 65535)]
    public void A_port_setting_is_a_number_from_1_to_65535(string value, int port) => Assert.Equal(port, Ports.Parse(value, "STOREFRONT_PG_PORT"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void An_unset_port_setting_is_null(string? value) => Assert.Null(Ports.Parse(value, "STOREFRONT_PG_PORT"));

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-5")]
    [InlineData("80a")]
    [InlineData("+80")]
    public void Anything_else_is_refused_with_its_source(string value) =>
        Assert.Contains("STOREFRONT_PG_PORT", Assert.Throws<ArgumentException>(() => Ports.Parse(value, "STOREFRONT_PG_PORT")).Message, StringComparison.Ordinal);

    [Fact]
    public void The_app_connects_as_the_storefront_role_over_tcp() =>
        Assert.Equal("Host=127.0.0.1;Port=15432;Database=storefront;Username=storefront;Password=storefront", PostgresServer.ConnectionStringFor(15432));

    [Fact]
    public void The_storage_connection_names_every_endpoint()
    {
        var connection = AzuriteServer.ConnectionStringFor(10000, 10001, 10002);
        Assert.Contains("BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;", connection, StringComparison.Ordinal);
        Assert.Contains("QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;", connection, StringComparison.Ordinal);
        Assert.Contains("TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;", connection, StringComparison.Ordinal);
        Assert.StartsWith("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=", connection, StringComparison.Ordinal);
    }

    [Fact]
    public void The_newest_postgresql_version_is_taken_by_number_not_by_text() =>
        Assert.Equal("/usr/lib/postgresql/15", PostgresServer.Newest(["/usr/lib/postgresql/9.6", "/usr/lib/postgresql/15", "/usr/lib/postgresql/13", "/usr/lib/postgresql/x"]));

    [Fact]
    public void Without_versions_there_is_none() => Assert.Null(PostgresServer.Newest([]));

    [Fact]
    public void The_cluster_lives_in_the_state_folder_when_its_user_can_reach_it() =>
        Assert.Equal("/work/repo/.local/dev/postgres", PostgresServer.DataDirectoryFor("/work/repo/.local/dev", userCanReachState: true));

    [Fact]
    public void A_state_folder_its_user_cannot_reach_moves_the_cluster_to_tmp()
    {
        var data = PostgresServer.DataDirectoryFor("/root/repo/.local/dev", userCanReachState: false);
        Assert.Matches("^/tmp/storefront-[0-9a-f]{12}/postgres$", data);
        Assert.Equal(data, PostgresServer.DataDirectoryFor("/root/repo/.local/dev", userCanReachState: false));
        Assert.NotEqual(data, PostgresServer.DataDirectoryFor("/root/repo/.local/test", userCanReachState: false));
    }

    [Fact]
    public void A_path_too_long_for_a_unix_socket_moves_the_cluster_to_tmp() =>
        Assert.StartsWith("/tmp/storefront-", PostgresServer.DataDirectoryFor("/work/" + new string('a', 90), userCanReachState: true), StringComparison.Ordinal);

    [Fact]
    public void As_root_a_child_with_a_user_runs_as_that_user_and_dies_with_us()
    {
        var spec = new ProcessSpec("postgres", "/usr/lib/postgresql/15/bin/postgres", ["-D", "/data"]) { User = "postgres", StopSignal = Signals.Interrupt };
        Assert.Equal(
            ["setpriv", "--pdeathsig=INT", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", "/usr/lib/postgresql/15/bin/postgres", "-D", "/data"],
            ChildProcess.CommandLine(spec, asRoot: true));
        Assert.Equal(["setpriv", "--pdeathsig=INT", "--", "/usr/lib/postgresql/15/bin/postgres", "-D", "/data"], ChildProcess.CommandLine(spec, asRoot: false));
    }

    [Fact]
    public void For_another_supervisor_a_child_with_a_user_runs_through_setpriv_alone()
    {
        var spec = new ProcessSpec("postgres", "/usr/lib/postgresql/15/bin/postgres", ["-D", "/data"]) { User = "postgres", StopSignal = Signals.Interrupt };
        var (asRoot, asRootArguments) = spec.Command(asRoot: true);
        Assert.Equal("setpriv", asRoot);
        Assert.Equal(["--reuid=postgres", "--regid=postgres", "--init-groups", "--", "/usr/lib/postgresql/15/bin/postgres", "-D", "/data"], asRootArguments);
        var (asUser, asUserArguments) = spec.Command(asRoot: false);
        Assert.Equal("/usr/lib/postgresql/15/bin/postgres", asUser);
        Assert.Equal(["-D", "/data"], asUserArguments);
    }

    [Theory]
    [InlineData(null, 10_000)]
    [InlineData("", 10_000)]
    [InlineData("200", 200)]
    public void The_seed_size_follows_STOREFRONT_SEED_PRODUCTS(string? value, int products) => Assert.Equal(products, DevStackOptions.SeedProductsFrom(value));

    [Theory]
    [InlineData("0")]
    [InlineData("100000")]
    [InlineData("many")]
    public void A_seed_size_out_of_range_is_refused(string value) => Assert.Throws<ArgumentException>(() => DevStackOptions.SeedProductsFrom(value));
}

public sealed class LocalSettingsTests
{
    [Fact]
    public void Values_the_sample_gained_are_added_and_existing_ones_kept()
    {
        var sample = System.Text.Json.Nodes.JsonNode.Parse("""{ "Values": { "A": "sample-a", "B": "sample-b" } }""")!.AsObject();
        var local = System.Text.Json.Nodes.JsonNode.Parse("""{ "IsEncrypted": false, "Values": { "A": "mine" } }""")!.AsObject();

        Assert.Equal(["B"], LocalSettings.AddMissing(sample, local));
        Assert.Equal("mine", (string?)local["Values"]!["A"]);
        Assert.Equal("sample-b", (string?)local["Values"]!["B"]);
        Assert.False((bool)local["IsEncrypted"]!);
    }

    [Fact]
    public void A_file_without_values_gets_all_of_them()
    {
        var sample = System.Text.Json.Nodes.JsonNode.Parse("""{ "Values": { "A": "a" } }""")!.AsObject();
        var local = System.Text.Json.Nodes.JsonNode.Parse("{}")!.AsObject();

        Assert.Equal(["A"], LocalSettings.AddMissing(sample, local));
    }
}
