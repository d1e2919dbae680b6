using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.UnitTests.Recovery;

public sealed class WorkMessageTests
{
    private static readonly Guid Id = Guid.Parse("0193a3f4-8c2e-7d61-9f3a-5b2c1d0e4f5a");

    [Fact]
    public void A_message_round_trips_through_its_json()
    {
        var message = new WorkMessage(Id, Attempt: 3, PoisonRequeues: 1);

        Assert.Equal("""{"id":"0193a3f4-8c2e-7d61-9f3a-5b2c1d0e4f5a","attempt":3,"poisonRequeues":1}""", message.ToJson());
        Assert.Equal(message, WorkMessage.TryParse(message.ToJson()));
    }

    [Fact]
    public void A_message_with_only_an_id_starts_at_attempt_zero() =>
        Assert.Equal(new WorkMessage(Id), WorkMessage.TryParse($$"""{"id":"{{Id}}"}"""));

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"orderId":"0193a3f4-8c2e-7d61-9f3a-5b2c1d0e4f5a"}""")]
    [InlineData("""{"id":"00000000-0000-0000-0000-000000000000"}""")]
    [InlineData("""{"id":"0193a3f4-8c2e-7d61-9f3a-5b2c1d0e4f5a","attempt":-1}""")]
    [InlineData("""{"id":"0193a3f4-8c2e-7d61-9f3a-5b2c1d0e4f5a","poisonRequeues":-2}""")]
    [InlineData("""{"id":"nope"}""")]
    public void Anything_else_is_not_a_work_message(string text) => Assert.Null(WorkMessage.TryParse(text));

    [Fact]
    public void A_long_message_is_shortened_for_the_log()
    {
        var text = new string('x', 2_000);

        Assert.Equal(501, WorkMessage.ForLog(text).Length);
        Assert.Equal("short", WorkMessage.ForLog("short"));
    }
}
